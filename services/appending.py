"""Append events: lock the streams (deals, targets, reviews), decide against their state,
append, all in one transaction. Rejected input raises before anything is written."""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from psycopg2 import errorcodes
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from events import store
from events.canonical import digest
from events.envelope import Envelope
from events.schema import EventInBase
from events.upcasting import upcast_envelope
from domain import errors
from domain.pipelines import PIPELINES, known
from domain.aggregates import aggregate_for
from services import ownership

RETRYABLE = {errorcodes.UNIQUE_VIOLATION, errorcodes.DEADLOCK_DETECTED,
             errorcodes.SERIALIZATION_FAILURE}


@dataclass(frozen=True)
class Command:
    deal_id: str
    event: EventInBase
    causation_id: str | None = None


@dataclass(frozen=True)
class AppendResult:
    envelope: Envelope
    created: bool  # False: an idempotent retry answered with the original result


@dataclass(frozen=True)
class _Fact:
    event_id: str
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    stream_version: int


def request_digest(command: Command) -> str:
    """What makes two posts of one event_id 'the same content'."""
    event = command.event
    return digest({"deal_id": command.deal_id, "type": event.type, "data": event.payload_dict(),
                   "occurred_at": event.occurred_at})


def append_events(engine: Engine, commands: Sequence[Command], ctx: store.Context, *,
                  currency: str, batch: bool = False,
                  writer: ownership.WriterScope | None = None) -> list[AppendResult]:
    """`writer`: the limits of a writer key, checked against each stream's locked state."""
    event_ids = _event_ids(commands, batch)
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                return _append(conn, commands, event_ids, ctx, currency, batch, writer)
        except DBAPIError as exc:
            if getattr(exc.orig, "pgcode", None) not in RETRYABLE or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _event_ids(commands: Sequence[Command], batch: bool) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for index, command in enumerate(commands):
        event_id = str(command.event.event_id) if command.event.event_id else str(uuid4())
        if event_id in seen:
            raise _at(errors.InvalidEvent(f"event_id {event_id} appears twice in the batch",
                                          event_id=event_id, first_index=seen[event_id]), index, batch)
        seen[event_id] = index
        ids.append(event_id)
    return ids


def _append(conn, commands, event_ids, ctx, currency, batch, writer) -> list[AppendResult]:
    locked = store.lock_heads(conn, {c.deal_id for c in commands}, len(commands))
    existing = _recorded(conn, commands, event_ids)
    pipelines = _pipelines(conn, commands)
    states = {d: load_state(conn, d, h, pipelines) for d, h in locked.heads.items()}
    voiding = {c.deal_id for c in commands if c.event.type == "event.voided"}
    histories = {d: [upcast_envelope(e) for e in store.read_stream(conn, d)] for d in voiding}
    results: list[AppendResult | int] = []
    new_events: list[store.NewEvent] = []
    for index, (command, event_id) in enumerate(zip(commands, event_ids)):
        try:
            ownership.check(writer, command.deal_id, command.event, states[command.deal_id])
            replay = _idempotent_replay(existing.get(event_id), command)
            if replay is not None:
                results.append(replay)
                continue
            aggregate = aggregate_for(command.deal_id)
            for decided in aggregate.decide(states[command.deal_id], command.event, now=locked.now,
                                            currency=currency, history=histories.get(command.deal_id, ()),
                                            pipelines=pipelines):
                fact = _Fact(event_id, decided.type, decided.data, decided.occurred_at,
                             states[command.deal_id].version + 1)
                states[command.deal_id] = _next_state(aggregate, command.deal_id, states[command.deal_id],
                                                      fact, histories, pipelines)
                results.append(len(new_events))
                new_events.append(store.NewEvent(
                    event_id=event_id, type=fact.type, deal_id=command.deal_id,
                    occurred_at=fact.occurred_at, data=fact.data,
                    request_digest=request_digest(command), causation_id=command.causation_id))
        except errors.DomainError as exc:
            raise _at(exc, index, batch) from None
    changed = {e.deal_id for e in new_events}
    envelopes = store.append(conn, new_events, locked, ctx,
                             {d: aggregate_for(d).dump(states[d]) for d in changed})
    return [r if isinstance(r, AppendResult) else AppendResult(envelopes[r], True) for r in results]


def _recorded(conn, commands: Sequence[Command], event_ids: list[str]) -> dict[str, store.Recorded]:
    """Client-supplied event ids already in the log. Looked up only once the heads are locked:
    a concurrent post of the same event_id to the same stream held that lock and has committed
    by now, so its retry is answered with the original result instead of being decided again
    (`deal_exists`). A retry leaves its position unused; the log reader skips such holes."""
    supplied = [eid for eid, c in zip(event_ids, commands) if c.event.event_id]
    return store.find_recorded(conn, supplied)


def load_state(conn, stream_id: str, head: store.Head, pipelines=PIPELINES):
    """The stream's stored state; folded again from its events if it was stored by another
    version of the fold (the stored state is a cache of the fold, never the truth)."""
    aggregate = aggregate_for(stream_id)
    if not head.version:
        return aggregate.initial(stream_id)
    state = aggregate.load(head.state)
    if state is None:
        history = [upcast_envelope(e) for e in store.read_stream(conn, stream_id)]
        if any(e.type == "deal.created" and e.data.get("pipeline", "default") not in pipelines for e in history):
            pipelines = known(store.pipeline_stage_lists(conn))
        state = aggregate.fold(stream_id, history, pipelines)
    return state


def _next_state(aggregate, stream_id: str, state, fact: _Fact, histories: dict[str, list], pipelines):
    history = histories.get(stream_id)
    if history is None or aggregate.fold is None:
        return aggregate.evolve(state, fact, pipelines)
    history.append(fact)
    return aggregate.fold(stream_id, history, pipelines)


def _pipelines(conn, commands: Sequence[Command]):
    """Pipeline stage lists, read only when a deal is created in a pipeline other than default."""
    if any(c.event.type == "deal.created" and c.event.data.pipeline != "default" for c in commands):
        return known(store.pipeline_stage_lists(conn))
    return PIPELINES


def _idempotent_replay(prior: store.Recorded | None, command: Command) -> AppendResult | None:
    if prior is None:
        return None
    if prior.request_digest != request_digest(command):
        raise errors.IdempotencyConflict(
            f"event_id {prior.envelope.event_id} was already used with different content",
            event_id=prior.envelope.event_id, deal_id=prior.envelope.deal_id,
            position=prior.envelope.position)
    return AppendResult(prior.envelope, created=False)


def _at(exc: errors.DomainError, index: int, batch: bool) -> errors.DomainError:
    return exc.at_index(index) if batch else exc
