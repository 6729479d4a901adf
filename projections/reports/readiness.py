"""What `/readyz` (services/readiness.py) reads to judge the relay and the worker cheaply: the age
of the oldest event each has not handled, the age of its checkpoint's last move, and whether a
session of it is connected. Every query runs in the caller's short transaction, under a timeout."""
from sqlalchemy import Connection, text

from projections.runtime import checkpoints

TIMEOUT_MS = 2000  # a readiness poll never waits longer on the database

_AGES = text("SELECT extract(epoch FROM now() - CAST(:at AS timestamptz)) AS waiting, "
             "extract(epoch FROM now() - (SELECT max(updated_at) FROM read_models.projection_checkpoint "
             "WHERE projection = :p)) AS moved_ago")
_SESSIONS = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
_RELAY = text("""
SELECT extract(epoch FROM now() - c.updated_at) AS moved_ago,
       extract(epoch FROM now() - (SELECT e.recorded_at FROM events.event e
                                   WHERE e.position > coalesce(c.position, 0)
                                   ORDER BY e.position LIMIT 1)) AS waiting
FROM (SELECT 1) AS one LEFT JOIN events.relay_checkpoint c ON c.relay = 'main'
""")


def limit_time(conn: Connection) -> None:
    """The rest of the transaction's statements time out after TIMEOUT_MS."""
    conn.execute(text(f"SET LOCAL statement_timeout = {TIMEOUT_MS}"))


def sessions(conn: Connection, application_name: str) -> int:
    """How many sessions named `application_name` (a process's PGAPPNAME) are connected."""
    return conn.execute(_SESSIONS, {"name": application_name}).scalar()


def relay_progress(conn: Connection) -> tuple:
    """(age of the oldest event the relay has not published, age of its checkpoint's last move)."""
    row = conn.execute(_RELAY).one()
    return row.waiting, row.moved_ago


def projection_progress(conn: Connection, projection: str) -> tuple:
    """(age of the oldest event the projection has not applied — above its watermark: only the
    lag —, age of its checkpoint's last move)."""
    first = checkpoints.first_unapplied(conn, projection, checkpoints.applied_through(conn, projection))
    row = conn.execute(_AGES, {"p": projection, "at": first.recorded_at if first else None}).one()
    return row.waiting, row.moved_ago
