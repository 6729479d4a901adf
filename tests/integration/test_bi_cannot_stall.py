"""A BI login holds every lock it can and the longest query it can, with its own timeouts SET off;
the projections still apply new events (relay and worker), the ledger still extends (what
/v1/audit/digest does), migrate runs, and a rebuild still swaps its tables in. The BI login has
its timeouts and no TEMP."""
import os
import subprocess
import sys
import threading
import uuid

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from events import ledger
from infra import logins
from infra.bi_limits import BiLimits
from infra.db import make_engine
from infra.migrate import upgrade
from projections.read_models import SALES
from projections.runtime import rebuild
from tests import factories as f
from tests.integration.projection_helpers import History, project_all
from tests.integration.relay_helpers import append
from tests.integration.worker_helpers import start_relay, start_worker, wait_caught_up
from tests.owners import owner_url

OLD_ADVISORY_KEYS = ("dealtrail.projection.sales", "dealtrail.ledger", "dealtrail.relay", "dealtrail.migrate")
DEADLINE = 120.0  # seconds: generous on a busy shared machine; a stall is forever


def connect(url: str, autocommit: bool = False):
    conn = psycopg2.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    conn.autocommit = autocommit
    return conn


@pytest.fixture
def bi(fresh_engine):
    """A `bi-login create` login on a fresh database, after `migrate`'s BI limits."""
    owner = owner_url(fresh_engine)
    logins.limit_bi(owner, BiLimits(statement_seconds=30, idle_seconds=60))
    name = f"analyst_{uuid.uuid4().hex[:8]}"
    password = logins.create_bi_login(owner, name, BiLimits(statement_seconds=30, idle_seconds=60))
    yield logins.login_url(owner, name, password)
    logins.drop_bi_login(owner, name)


def read_model_relations(cur) -> list[str]:
    cur.execute("SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'read_models'::regnamespace "
                "AND c.relkind IN ('r', 'v', 'm', 'p') ORDER BY 1")
    return [name for (name,) in cur.fetchall()]


def hold_everything(conn) -> list[str]:
    """In one open transaction, with the session's timeouts off: every old advisory key, and
    ACCESS SHARE (all SELECT allows) on every read_models table and view."""
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0")
        for key in OLD_ADVISORY_KEYS:
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        relations = read_model_relations(cur)
        for name in relations:
            cur.execute(f"LOCK TABLE read_models.{name} IN ACCESS SHARE MODE")
    return relations


def sleep_forever(url: str, outcome: dict) -> threading.Thread:
    """`SELECT pg_sleep(3600)` in a transaction that read deal_current; what ended it goes to `outcome`."""
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0")
        cur.execute("SELECT count(*) FROM read_models.deal_current")

    def run():
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_sleep(3600)")
            outcome["ended"] = "finished"
        except psycopg2.Error as exc:
            outcome["ended"] = type(exc).__name__

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def finishes(target, timeout: float = DEADLINE):
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(value=target()), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{target} did not finish within {timeout}s"
    assert "value" in result, f"{target} failed"
    return result["value"]


def test_a_bi_login_cannot_take_the_coordination_locks_nor_write_locks(bi):
    conn = connect(bi, autocommit=True)
    with conn.cursor() as cur:
        for statement in ("LOCK TABLE coordination.projection_sales IN ACCESS SHARE MODE",
                          "LOCK TABLE coordination.ledger IN EXCLUSIVE MODE",
                          "LOCK TABLE coordination.relay IN ACCESS SHARE MODE",
                          "LOCK TABLE read_models.deal_current IN ROW EXCLUSIVE MODE",
                          "CREATE TEMP TABLE mine (x int)"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f"BEGIN; {statement}")
            cur.execute("ROLLBACK")
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone() == ("30s",)
        cur.execute("SHOW idle_in_transaction_session_timeout")
        assert cur.fetchone() == ("1min",)
    conn.close()


def test_projections_ledger_and_rebuild_go_on_while_a_bi_login_holds_all_it_can(fresh_engine, bi, broker):
    h = History(fresh_engine)
    for i in range(5):
        h.create(f"bi-hold-{i}", i)
    project_all(fresh_engine)
    holder, sleeper = connect(bi), {}
    held = hold_everything(holder)
    assert "deal_current" in held and len(held) > 5
    sleeping = sleep_forever(bi, sleeper)
    topic = f"bi-stall-{uuid.uuid4().hex[:8]}"
    relay, worker = start_relay(fresh_engine, broker.bootstrap, topic), None
    try:
        worker = start_worker(fresh_engine, broker.bootstrap, topic, f"g-{topic}")
        for i in range(5):
            append(fresh_engine, f"bi-new-{i}", f.created())
        wait_caught_up(fresh_engine, timeout=DEADLINE)
        with fresh_engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM read_models.deal_current "
                                        "WHERE deal_id LIKE 'bi-new-%%'").scalar() == 5
        head = finishes(lambda: ledger.extend(fresh_engine, wait_seconds=1.0))
        assert head.tree_size >= 10
        finishes(lambda: upgrade(owner_url(fresh_engine)))  # migrate's lock is not the advisory one held
        owner = make_engine(owner_url(fresh_engine), pool_size=2)
        try:
            through = finishes(lambda: rebuild.rebuild(SALES, owner, swap_patience=3.0))
        finally:
            owner.dispose()
        assert through >= head.last_position
    finally:
        relay.halt()
        if worker is not None:
            worker.halt()
        holder.close()
    sleeping.join(DEADLINE)
    assert sleeper.get("ended") not in (None, "finished")  # ended by the rebuild, not by itself


def test_migrate_sets_the_configured_limits_on_existing_bi_logins_and_revokes_temp(fresh_engine):
    owner = owner_url(fresh_engine)
    name = f"analyst_{uuid.uuid4().hex[:8]}"
    url = logins.login_url(owner, name, logins.create_bi_login(owner, name, BiLimits(5, 7)))
    try:
        env = {**os.environ, "DATABASE_URL": owner, "DEALTRAIL_BI_STATEMENT_TIMEOUT": "12",
               "DEALTRAIL_BI_IDLE_TIMEOUT": "13"}
        migrated = subprocess.run([sys.executable, "-m", "services.cli", "migrate"], env=env,
                                  capture_output=True, text=True, timeout=300)
        assert migrated.returncode == 0, migrated.stderr
        conn = connect(url, autocommit=True)
        with conn.cursor() as cur:
            cur.execute("SHOW statement_timeout")
            assert cur.fetchone() == ("12s",)
            cur.execute("SHOW idle_in_transaction_session_timeout")
            assert cur.fetchone() == ("13s",)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("CREATE TEMP TABLE mine (x int)")
        conn.close()
        with fresh_engine.begin() as conn:  # the app role keeps TEMP (its snapshots use it)
            conn.exec_driver_sql("CREATE TEMP TABLE app_scratch (x int) ON COMMIT DROP")
    finally:
        logins.drop_bi_login(owner, name)
