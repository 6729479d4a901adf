"""A rebuild's swap needs ACCESS EXCLUSIVE on read_models tables a BI query may be reading (ACCESS
SHARE). Waiting for it would stall the swap, and queue every later reader and the worker behind
it; so each attempt waits at most SWAP_LOCK_TIMEOUT (lock_timeout), then lets everything go, and
tries again. A BI session cannot hold out forever: its statement_timeout and
idle_in_transaction_session_timeout end it (infra.logins) — but a session may SET them off, so
after `patience` seconds the rebuild ends the BI sessions (members of bi_reader) that hold locks
on read_models, and the next attempt goes through."""
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from infra.coordination import LOCK_NOT_AVAILABLE
from infra.logins import BI_GROUP

log = logging.getLogger("dealtrail.rebuild")
SWAP_LOCK_TIMEOUT = "2s"
SWAP_PATIENCE = 60.0  # seconds; beyond BI's default statement_timeout (30 s)
T = TypeVar("T")

_END_BI_READERS = text(
    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM (SELECT DISTINCT l.pid FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_class c ON c.oid = l.relation "
    "WHERE c.relnamespace = 'read_models'::regnamespace AND l.pid <> pg_backend_pid() "
    "AND pg_has_role(a.usesysid, :bi, 'MEMBER')) blockers")


def limit_lock_waits(conn: Connection) -> None:
    """For the rest of the transaction: a lock not granted within SWAP_LOCK_TIMEOUT is an error."""
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")


def retrying(engine: Engine, attempt: Callable[[], T], patience: float = SWAP_PATIENCE) -> T:
    """`attempt()` (a whole transaction) until it is not refused for a lock timeout."""
    started, tries = time.monotonic(), 0
    while True:
        try:
            return attempt()
        except OperationalError as exc:
            if getattr(exc.orig, "pgcode", None) != LOCK_NOT_AVAILABLE:
                raise
        tries += 1
        waited = time.monotonic() - started
        log.warning("swap attempt %d waited %s for a read_models lock (a long read?); trying again",
                    tries, SWAP_LOCK_TIMEOUT)
        if waited >= patience:
            end_bi_readers(engine)
        time.sleep(0.2)


def end_bi_readers(engine: Engine) -> int:
    """Terminate the BI sessions holding locks on read_models; how many (0 if not permitted)."""
    try:
        with engine.begin() as conn:
            ended = conn.execute(_END_BI_READERS, {"bi": BI_GROUP}).scalar_one()
    except DBAPIError as exc:
        log.warning("could not end the BI sessions blocking the swap: %s", exc.orig)
        return 0
    if ended:
        log.warning("ended %d BI session(s) that held read_models tables past the swap's patience", ended)
    return ended
