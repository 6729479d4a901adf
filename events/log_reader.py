"""Read the global log in commit order, with no gaps and no skipped late commits.

Positions come from a sequence at insert time, so a reader can see position 8 before
position 7 commits. Rule used here (no table lock, no settle timer):

* Read rows after `after` in position order under one snapshot S1. Take the leading run
  with no missing position.
* If a position g is missing below a visible one, the transaction that took g got its
  transaction id before g (events.next_position() assigns it first) and before S1, so its
  xid is lower than a probe xid P assigned now. Wait until every transaction older than P
  has ended (pg_snapshot_xmin >= P), read again: g is there now, or its transaction rolled
  back and g is a permanent hole that can be skipped.

Per-deal order is preserved as well: a transaction appends version n+1 of a deal only
after reading version n committed, so it takes a higher position (see events.store)."""
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, text

from events.envelope import Envelope, envelope_from_row
from events.tables import ENVELOPE_COLUMNS, event


@dataclass(frozen=True)
class LogPage:
    envelopes: list  # Envelope, or what `shape` builds
    through: int  # every position <= through has been returned or is a permanent hole


@dataclass(frozen=True)
class Shape:
    """What is read of each event: columns of events.event and what a row becomes (it has a
    `position`)."""
    columns: Sequence[Any]
    build: Callable[[Any], Any]


ENVELOPES = Shape(ENVELOPE_COLUMNS, envelope_from_row)


def read_committed(engine: Engine, after: int, limit: int, wait_seconds: float = 5.0,
                   shape: Shape = ENVELOPES) -> LogPage:
    rows, probe = _read(engine, after, limit, shape, probe_on_gap=True)
    taken = _leading_run(rows, after, hole_bound=after)
    if probe is None:
        return _page(taken, after)
    bound = rows[-1].position
    if not _wait_older_finished(engine, probe, wait_seconds):
        return _page(taken, after)
    rows, _ = _read(engine, after, limit, shape, probe_on_gap=False)
    return _page(_leading_run(rows, after, hole_bound=bound), after)


def _read(engine: Engine, after: int, limit: int, shape: Shape, probe_on_gap: bool) -> tuple[list, int | None]:
    query = (select(*shape.columns).where(event.c.position > after)
             .order_by(event.c.position).limit(limit))
    with engine.connect() as conn:
        rows = [shape.build(r) for r in conn.execute(query).mappings()]
        probe = None
        if probe_on_gap and _has_gap(rows, after):
            probe = int(conn.execute(text("SELECT pg_current_xact_id()::text")).scalar_one())
        conn.rollback()
    return rows, probe


def _has_gap(rows: list[Envelope], after: int) -> bool:
    return bool(rows) and rows[-1].position - after != len(rows)


def _leading_run(rows: list[Envelope], after: int, hole_bound: int) -> list[Envelope]:
    """Rows up to the first missing position that is not known to be a permanent hole
    (positions below `hole_bound` that are still missing are holes)."""
    taken, expect = [], after + 1
    for env in rows:
        if env.position != expect and env.position - 1 >= hole_bound:
            break
        taken.append(env)
        expect = env.position + 1
    return taken


def _wait_older_finished(engine: Engine, probe: int, wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    query = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
    with engine.connect() as conn:
        while True:
            if int(conn.execute(query).scalar_one()) >= probe:
                conn.rollback()
                return True
            conn.rollback()
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)


def _page(taken: list[Envelope], after: int) -> LogPage:
    return LogPage(taken, taken[-1].position if taken else after)


def settled_horizon(engine: Engine, wait_seconds: float = 30.0) -> int:
    """A position P such that every event at or below P is committed or rolled back for good:
    reading `position <= P` afterwards gives a complete cut of the log (for rebuilds)."""
    with engine.connect() as conn:
        top = conn.execute(select(func.coalesce(func.max(event.c.position), 0))).scalar_one()
        probe = int(conn.execute(text("SELECT pg_current_xact_id()::text")).scalar_one())
        conn.rollback()
    if not _wait_older_finished(engine, probe, wait_seconds):
        raise TimeoutError("transactions older than the rebuild did not finish in time")
    return top
