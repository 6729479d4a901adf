"""The log for export: one settled cut of events.event, streamed in position order.

The cut ends at `settled_horizon` (every position at or below it is committed or a permanent
hole), so a transaction that took a lower position but commits late is waited for, never
skipped. Rows come through a server-side cursor: memory stays flat however long the log is."""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from events.envelope import Envelope, envelope_from_row
from events.log_reader import settled_horizon
from events.tables import ENVELOPE_COLUMNS, event


@dataclass(frozen=True)
class ExportRange:
    """Which events: positions after `after`, up to `until` (a position, inclusive, or a
    recorded time, inclusive), of one stream if `deal_id` is given."""
    after: int = 0
    until: int | datetime | None = None
    deal_id: str | None = None


@dataclass(frozen=True)
class Cut:
    """An export range bounded by a settled horizon; taken before any byte is sent."""
    range: ExportRange
    horizon: int


def settle(engine: Engine, wanted: ExportRange, wait_seconds: float = 30.0) -> Cut:
    return Cut(wanted, settled_horizon(engine, wait_seconds))


def _conditions(cut: Cut) -> list:
    wanted = cut.range
    where = [event.c.position > wanted.after, event.c.position <= cut.horizon]
    if isinstance(wanted.until, datetime):
        where.append(event.c.recorded_at <= wanted.until)
    elif wanted.until is not None:
        where.append(event.c.position <= wanted.until)
    if wanted.deal_id is not None:
        where.append(event.c.deal_id == wanted.deal_id)
    return where


def count(engine: Engine, cut: Cut) -> int:
    """How many events `envelopes` will yield (for a progress bar)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(event).where(*_conditions(cut))).scalar_one()


def envelopes(engine: Engine, cut: Cut, chunk: int = 1000) -> Iterator[Envelope]:
    query = select(*ENVELOPE_COLUMNS).where(*_conditions(cut)).order_by(event.c.position)
    with engine.connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=chunk).execute(query).mappings()
        for row in rows:
            yield envelope_from_row(row)
