"""A database restart ends the session holding the relay's lock: the relay must notice, stand
by, and take the lock again, rather than go on publishing while another relay may lead."""
import psycopg2

from events import relay as relaying
from tests import factories as f
from tests.integration.relay_helpers import RunningRelay, append, lag, wait_for

LOCK_HOLDERS = ("SELECT pid FROM pg_locks WHERE locktype = 'relation' AND granted "
                "AND relation = 'coordination.relay'::regclass")


def holders(admin) -> list[int]:
    with admin.cursor() as cur:
        cur.execute(LOCK_HOLDERS)
        return [row[0] for row in cur.fetchall()]


def test_relay_takes_its_lock_again_after_losing_its_session(fresh_engine, broker, monkeypatch):
    monkeypatch.setattr(relaying, "LEADERSHIP_CHECK_SECONDS", 0.2)
    admin = psycopg2.connect(fresh_engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    admin.autocommit = True
    running = RunningRelay(fresh_engine, broker.bootstrap)
    try:
        wait_for(lambda: len(holders(admin)) == 1)
        [first] = holders(admin)
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (first,))
        wait_for(lambda: holders(admin) not in ([], [first]))
        append(fresh_engine, "after-cut", f.created())
        wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    finally:
        running.halt()
        admin.close()
