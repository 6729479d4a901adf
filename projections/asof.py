"""Reports "as the system knew it then": the read models replayed from the events recorded up
to `as_of` into a schema of their own, kept for reuse (the newest few are kept).

Interim, until the read models are bitemporal (issue 10): a moment later than the newest
recorded event is refused (its replay would go stale as events arrive); one replay is built at a
time (a request for another moment meanwhile is told to retry), so distinct moments cannot burn
more than one core; a schema being read is never pruned under its reader."""
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine, text

from domain.errors import Busy, InvalidQuery
from events.log_reader import settled_horizon
from projections import rebuild
from projections.schema import schema_name

KEEP = 16
BUILD_LOCK = "dealtrail.asof.build"
T = TypeVar("T")


def check(conn: Connection, as_of: datetime) -> None:
    """422 for a moment later than the newest recorded event."""
    # the newest positions hold the newest clock reads (give or take a race between appends)
    newest = conn.execute(text("SELECT max(recorded_at) FROM (SELECT recorded_at FROM events.event "
                               "ORDER BY position DESC LIMIT 100) t")).scalar()
    if newest is None or as_of > newest:
        raise InvalidQuery(f"as_of {as_of.isoformat()} is later than the newest recorded event"
                           + (f" ({newest.isoformat()})" if newest else " (the log is empty)"),
                           as_of=as_of.isoformat(), newest_recorded_at=newest.isoformat() if newest else None)


def run(engine: Engine, as_of: datetime, report: Callable[[Connection, str], T]) -> tuple[T, int]:
    """`report(conn, schema)` on the read models as of `as_of`, and the position they reflect."""
    with engine.connect() as conn:
        check(conn, as_of)
    schema = f"asof_{int(as_of.timestamp() * 1_000_000)}"
    with _reading(engine, schema) as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
        if not exists:
            _build(engine, schema, as_of)
        position = conn.exec_driver_sql(
            f"SELECT coalesce(max(last_position), 0) FROM {schema_name(schema)}.deal_current").scalar()
        return report(conn, schema), position


@contextmanager
def _reading(engine: Engine, schema: str) -> Iterator[Connection]:
    """A connection holding the schema's shared lock: pruning skips schemas being read."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock_shared(hashtext(:k))"), {"k": schema})
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute(text("SELECT pg_advisory_unlock_shared(hashtext(:k))"), {"k": schema})
            conn.commit()


def _build(engine: Engine, schema: str, as_of: datetime) -> None:
    with engine.connect() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": BUILD_LOCK}).scalar():
            raise Busy("another as_of replay is being built; retry shortly")
        try:
            exists = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
            conn.commit()
            if not exists:  # built under another name, renamed when complete: never read half-built
                rebuild.build(engine, f"{schema}_build", settled_horizon(engine), recorded_until=as_of)
                conn.exec_driver_sql(f"ALTER SCHEMA {schema_name(schema)}_build RENAME TO {schema_name(schema)}")
                conn.commit()
                _prune(engine, keep=schema)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": BUILD_LOCK})
            conn.commit()


def _prune(engine: Engine, keep: str) -> None:
    """Drop all but the newest KEEP replays, skipping any being read."""
    with engine.connect() as conn:
        names = conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'asof\\_%' "
                                  "ORDER BY pg_namespace.oid DESC")).scalars().all()
        conn.commit()
        for name in names[KEEP:]:
            if name == keep:
                continue
            if conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": name}).scalar():
                try:
                    conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema_name(name)} CASCADE")
                    conn.commit()
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": name})
                    conn.commit()
