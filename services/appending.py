"""Append events: lock the streams (deals, targets, reviews), decide against their state,
append, all in one transaction. `append_events` is all or nothing (rejected input raises
before anything is written); `append_each` (group commit) decides each post on its own and
commits the accepted ones."""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import uuid4

from psycopg2 import errorcodes
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from domain import errors
from domain.aggregates import aggregate_for
from domain.pipelines import PIPELINES, known
from events import store
from events.canonical import digest
from events.envelope import Envelope
from events.schema import EventInBase
from events.upcasting import upcast_envelope
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


class _Fact(NamedTuple):  # one per appended event: a named tuple is ~3x cheaper to build
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
    """All of `commands` or nothing. `writer`: the limits of a writer key, checked against each
    stream's locked state."""
    event_ids = _event_ids(commands, batch)
    requests = [Post(c, ctx, writer) for c in commands]

    def strict(index: int, exc: errors.DomainError):
        raise _at(exc, index, batch) from None
    return _retrying(engine, lambda conn: _append(conn, requests, event_ids, currency, strict))


@dataclass(frozen=True)
class Post:
    """One post of a group commit: its command, where it comes from, the writer's limits."""
    command: Command
    ctx: store.Context
    writer: ownership.WriterScope | None = None


def append_each(engine: Engine, requests: Sequence[Post], *, currency: str,
                transact=None) -> list[AppendResult | Exception]:
    """Group commit: the requests in one transaction, each decided on its own in arrival order
    (seeing the effects of the ones before it), as if posted one after another. A rejected
    request gets its own error and is left out; the others commit. A statement that fails for
    another reason is retried with each request in a transaction of its own, so one poison
    request cannot fail the rest; a database that is down fails them all. `transact(work)`
    runs `work(conn)` in a transaction (default: one of `engine`'s pooled connections)."""
    event_ids = [str(r.command.event.event_id) if r.command.event.event_id else str(uuid4()) for r in requests]
    outcomes: list[Exception | None] = []

    def attempt(conn):
        outcomes[:] = [None] * len(requests)  # a retried attempt decides everything again
        return _append(conn, requests, event_ids, currency, outcomes.__setitem__)
    try:
        results = _retrying(engine, attempt, transact)
    except DBAPIError as exc:
        if isinstance(exc, (OperationalError, InterfaceError)) or len(requests) == 1:
            return [exc] * len(requests)
        return [_alone(engine, r, currency) for r in requests]
    except Exception as exc:  # pool timeout and the like: nothing was written
        return [exc] * len(requests)
    return [o if o is not None else r for o, r in zip(outcomes, results)]


def _alone(engine: Engine, request: Post, currency: str) -> AppendResult | Exception:
    try:
        [result] = append_events(engine, [request.command], request.ctx, currency=currency,
                                 writer=request.writer)
        return result
    except Exception as exc:
        return exc


def _retrying(engine: Engine, work, transact=None):
    """Run `work(conn)` in a transaction; retried (up to 3 times) on deadlocks, serialization
    failures and unique violations (a concurrent post of the same event_id)."""
    for attempt in range(3):
        try:
            if transact is not None:
                return transact(work)
            with engine.begin() as conn:
                return work(conn)
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


def _append(conn, requests: Sequence[Post], event_ids: list[str], currency: str, rejected) -> list:
    """Decide each request in order against the locked streams and append what was accepted.
    `rejected(index, error)` raises (all or nothing) or records the error (the request is
    left out; its result slot is None)."""
    commands = [r.command for r in requests]
    locked = store.lock_heads(conn, {c.deal_id for c in commands}, len(commands))
    run = _Run(locked, _recorded(conn, commands, event_ids), _pipelines(conn, commands), currency)
    run.load(conn, commands)
    slots: list[AppendResult | int | None] = []
    for index, (request, event_id) in enumerate(zip(requests, event_ids)):
        try:
            slots.append(run.take(request, event_id))
        except errors.DomainError as exc:
            rejected(index, exc)
            slots.append(None)
    envelopes = store.append(conn, run.new_events, locked, None, run.dumped_states())
    return [_result(slot, envelopes) for slot in slots]


@dataclass(frozen=True)
class _Replay:
    """A retry of an event taken earlier in the same transaction."""
    index: int


def _result(slot, envelopes: list[Envelope]) -> AppendResult | None:
    if isinstance(slot, int):
        return AppendResult(envelopes[slot], True)
    if isinstance(slot, _Replay):
        return AppendResult(envelopes[slot.index], False)
    return slot


class _Run:
    """The streams of one append transaction as its requests are decided, one after another."""

    def __init__(self, locked: store.LockedHeads, existing: dict[str, store.Recorded], pipelines, currency: str):
        self.locked, self.existing, self.pipelines, self.currency = locked, existing, pipelines, currency
        self.new_events: list[store.NewEvent] = []
        self.pending: dict[str, int] = {}  # event_id -> index in new_events, taken in this run

    def load(self, conn, commands: Sequence[Command]) -> None:
        self.states = {d: load_state(conn, d, h, self.pipelines) for d, h in self.locked.heads.items()}
        voiding = {c.deal_id for c in commands if c.event.type == "event.voided"}
        self.histories = {d: [upcast_envelope(e) for e in store.read_stream(conn, d)] for d in voiding}

    def take(self, request: Post, event_id: str) -> AppendResult | _Replay | int:
        """The result of an idempotent retry, or the index of the new event in `new_events`."""
        command = request.command
        deal_id = command.deal_id
        ownership.check(request.writer, deal_id, command.event, self.states[deal_id])
        digest_ = request_digest(command)
        replay = _idempotent_replay(self.existing.get(event_id), digest_, event_id)
        if replay is not None:
            return replay
        if event_id in self.pending:  # posted twice in one group: the second is a retry of the first
            first = self.pending[event_id]
            _check_same(self.new_events[first].request_digest, digest_, event_id)
            return _Replay(first)
        aggregate = aggregate_for(deal_id)
        index = len(self.new_events)
        for decided in aggregate.decide(self.states[deal_id], command.event, now=self.locked.now,
                                        currency=self.currency, history=self.histories.get(deal_id, ()),
                                        pipelines=self.pipelines):
            fact = _Fact(event_id, decided.type, decided.data, decided.occurred_at, self.states[deal_id].version + 1)
            self.states[deal_id] = _next_state(aggregate, deal_id, self.states[deal_id], fact,
                                               self.histories, self.pipelines)
            self.new_events.append(store.NewEvent(
                event_id=event_id, type=fact.type, deal_id=deal_id, occurred_at=fact.occurred_at,
                data=fact.data, request_digest=digest_, causation_id=command.causation_id,
                context=request.ctx))
        self.pending[event_id] = index
        return index

    def dumped_states(self) -> dict[str, dict]:
        changed = {e.deal_id for e in self.new_events}
        return {d: aggregate_for(d).dump(self.states[d]) for d in changed}


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


def _idempotent_replay(prior: store.Recorded | None, digest_: str, event_id: str) -> AppendResult | None:
    if prior is None:
        return None
    _check_same(prior.request_digest, digest_, event_id, prior.envelope)
    return AppendResult(prior.envelope, created=False)


def _check_same(recorded_digest: str, digest_: str, event_id: str, prior: Envelope | None = None) -> None:
    if recorded_digest != digest_:
        details = {"deal_id": prior.deal_id, "position": prior.position} if prior else {}
        raise errors.IdempotencyConflict(f"event_id {event_id} was already used with different content",
                                         event_id=event_id, **details)


def _at(exc: errors.DomainError, index: int, batch: bool) -> errors.DomainError:
    return exc.at_index(index) if batch else exc
