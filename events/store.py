"""The event store: append one event or a batch atomically, read streams.

An append runs in the caller's transaction:
1. `lock_heads` locks (creating if needed) the stream heads in deal_id order, so concurrent
   batches over overlapping deals cannot deadlock and each stream has one writer at a time;
2. the caller decides what to append from the heads' state;
3. `append` takes positions, chains hashes, inserts the events and moves the heads.
No table lock: writers to different deals proceed in parallel."""
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, text, update

from events.canonical import GENESIS_HASH
from events.envelope import Envelope, envelope_from_row
from events.tables import ENVELOPE_COLUMNS, event, stream_head


@dataclass
class Head:
    deal_id: str
    version: int
    last_hash: str
    state: dict[str, Any]


@dataclass(frozen=True)
class NewEvent:
    event_id: str
    type: str
    deal_id: str
    occurred_at: datetime | None
    data: dict[str, Any]
    request_digest: str
    schema_version: int = 1
    causation_id: str | None = None


@dataclass(frozen=True)
class Context:
    """Who and where an append comes from (the same for a whole request)."""
    actor: str
    source: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class Recorded:
    envelope: Envelope
    request_digest: str


@dataclass
class LockedHeads:
    heads: dict[str, Head]
    now: datetime
    existing: dict[str, Recorded] = field(default_factory=dict)


_LOCK_HEADS = text("""
    INSERT INTO events.stream_head (deal_id)
    SELECT d FROM unnest(CAST(:deal_ids AS text[])) AS d ORDER BY d
    ON CONFLICT (deal_id) DO UPDATE SET deal_id = EXCLUDED.deal_id
    RETURNING deal_id, version, last_hash, state, clock_timestamp() AS now
""")

_TAKE_POSITIONS = text("SELECT events.next_position() FROM generate_series(1, :n)")


def lock_heads(conn: Connection, deal_ids: set[str], event_ids: list[str]) -> LockedHeads:
    rows = conn.execute(_LOCK_HEADS, {"deal_ids": sorted(deal_ids)}).mappings().all()
    heads = {r["deal_id"]: Head(r["deal_id"], r["version"], r["last_hash"], r["state"]) for r in rows}
    return LockedHeads(heads=heads, now=rows[0]["now"], existing=find_recorded(conn, event_ids))


def find_recorded(conn: Connection, event_ids: list[str]) -> dict[str, Recorded]:
    if not event_ids:
        return {}
    query = select(*ENVELOPE_COLUMNS, event.c.request_digest).where(event.c.event_id.in_(event_ids))
    rows = conn.execute(query).mappings().all()
    return {str(r["event_id"]): Recorded(envelope_from_row(r), r["request_digest"]) for r in rows}


def append(conn: Connection, new_events: list[NewEvent], locked: LockedHeads,
           ctx: Context, states: dict[str, dict[str, Any]]) -> list[Envelope]:
    """Insert `new_events` (in order) after the locked heads; store the new `states`.
    `recorded_at` is the server clock read when the heads were locked."""
    if not new_events:
        return []
    positions = sorted(conn.execute(_TAKE_POSITIONS, {"n": len(new_events)}).scalars())
    recorded_at, heads = locked.now, locked.heads
    tips = {deal_id: (h.version, h.last_hash) for deal_id, h in heads.items()}
    envelopes, rows = [], []
    for position, new in zip(positions, new_events):
        version, prev_hash = tips[new.deal_id]
        env = _seal(new, ctx, version + 1, position, recorded_at, prev_hash)
        tips[new.deal_id] = (env.stream_version, env.hash)
        envelopes.append(env)
        rows.append({**_row(env), "request_digest": new.request_digest})
    conn.execute(event.insert(), rows)
    conn.execute(
        update(stream_head).where(stream_head.c.deal_id == bindparam("b_deal_id")).values(
            version=bindparam("b_version"), last_hash=bindparam("b_hash"),
            state=bindparam("b_state"), updated_at=recorded_at),
        [{"b_deal_id": d, "b_version": v, "b_hash": h, "b_state": states[d]}
         for d, (v, h) in tips.items() if d in states],
    )
    return envelopes


def _seal(new: NewEvent, ctx: Context, version: int, position: int,
          recorded_at: datetime, prev_hash: str) -> Envelope:
    unsealed = Envelope(
        event_id=new.event_id, type=new.type, deal_id=new.deal_id, stream_version=version,
        position=position, occurred_at=new.occurred_at or recorded_at, recorded_at=recorded_at,
        actor=ctx.actor, source=ctx.source, correlation_id=ctx.correlation_id,
        causation_id=new.causation_id, schema_version=new.schema_version, data=new.data,
        prev_hash=prev_hash, hash="",
    )
    return replace(unsealed, hash=unsealed.computed_hash())


def _row(env: Envelope) -> dict[str, Any]:
    return {c.name: getattr(env, c.name) for c in ENVELOPE_COLUMNS}


def read_stream(conn: Connection, deal_id: str, *, after_version: int = 0,
                limit: int | None = None, recorded_until: datetime | None = None) -> list[Envelope]:
    """The stream as stored (auditors); domain code upcasts with events.upcasting."""
    query = (select(*ENVELOPE_COLUMNS)
             .where(event.c.deal_id == deal_id, event.c.stream_version > after_version)
             .order_by(event.c.stream_version))
    if recorded_until is not None:
        query = query.where(event.c.recorded_at <= recorded_until)
    if limit is not None:
        query = query.limit(limit)
    return [envelope_from_row(r) for r in conn.execute(query).mappings()]


def read_head(conn: Connection, deal_id: str) -> Head | None:
    row = conn.execute(select(stream_head).where(stream_head.c.deal_id == deal_id)).mappings().first()
    if row is None or row["version"] == 0:
        return None
    return Head(row["deal_id"], row["version"], row["last_hash"], row["state"])


__all__ = ["GENESIS_HASH", "Head", "NewEvent", "Context", "Recorded", "LockedHeads",
           "lock_heads", "find_recorded", "append", "read_stream", "read_head"]
