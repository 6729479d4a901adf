"""Locks the services take turns with: LOCK TABLE on empty tables of schema `coordination`
(migration 0023), not advisory locks, which any role — a BI login too — can take and hold.
BI roles have no USAGE on the schema: they can neither lock these tables nor queue for them.
Transaction-scoped, like the table locks they are; no transaction id is assigned by taking one."""
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

PROJECTION_SALES, LEDGER, RELAY, MIGRATE = "projection_sales", "ledger", "relay", "migrate"
NAMES = frozenset({PROJECTION_SALES, LEDGER, RELAY, MIGRATE})
LOCK_NOT_AVAILABLE = "55P03"

_HOLDS = text("SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'relation' AND granted "
              "AND pid = pg_backend_pid() AND mode = 'ExclusiveLock' "
              "AND relation = to_regclass('coordination.' || :name)")


def _statement(name: str, nowait: bool = False) -> str:
    if name not in NAMES:
        raise ValueError(f"no coordination lock named {name!r}")
    return f"LOCK TABLE coordination.{name} IN EXCLUSIVE MODE" + (" NOWAIT" if nowait else "")


def hold(conn: Connection, name: str) -> None:
    """Wait for the lock; it is held until the transaction ends."""
    conn.exec_driver_sql(_statement(name))


def try_hold(conn: Connection, name: str) -> bool:
    """Take the lock if it is free; False (and the transaction rolled back) if another holds it."""
    try:
        conn.exec_driver_sql(_statement(name, nowait=True))
        return True
    except OperationalError as exc:
        conn.rollback()
        if getattr(exc.orig, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        return False


def holds(conn: Connection, name: str) -> bool:
    """Whether this session holds the lock (in its open transaction)."""
    return bool(conn.execute(_HOLDS, {"name": name}).scalar())
