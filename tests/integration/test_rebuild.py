"""Rebuild swaps fresh tables in atomically and reproduces the same rows; replay shows the past."""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg2
import pytest
from sqlalchemy import text

from events.log_reader import settled_horizon
from infra.db import make_engine
from projections import sales_projection as sales
from projections.read_models import SALES
from projections.runtime import checkpoints, rebuild
from projections.tables import declared as tables_declared
from services.demo import generate
from tests.integration.projection_helpers import DEMO_END as END
from tests.integration.projection_helpers import History, api, project_all
from tests.integration.worker_helpers import tables
from tests.owners import as_role, owner_url


def owner(engine):
    """Rebuilds are admin work: the schema owner's connection, without SET ROLE."""
    return make_engine(owner_url(engine), pool_size=2)


def seed(engine, deals=120):
    client = api(engine)
    assert client.post("/v1/events/batch", json={"events": list(generate(deals, 5, END))}).status_code == 201
    project_all(engine)
    return client


def test_rebuild_reproduces_identical_tables_and_sets_the_floor(fresh_engine):
    seed(fresh_engine)
    before = tables(fresh_engine)
    through = rebuild.rebuild(SALES, owner(fresh_engine))
    assert tables(fresh_engine) == before
    with fresh_engine.connect() as conn:
        assert checkpoints.read(conn, sales.NAME)[checkpoints.FLOOR] == through
        assert conn.execute(text("SELECT max(position) FROM events.event")).scalar() == through
        assert conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"),
                            {"s": SALES.build_schema}).scalar() == 0


def test_rebuilt_tables_come_vacuumed_and_analyzed(fresh_engine):
    """Reports read the rebuilt tables at once: the planner has statistics and index-only scans
    a visibility map (not left to autovacuum)."""
    seed(fresh_engine)
    rebuild.rebuild(SALES, owner(fresh_engine))
    with fresh_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.relname, c.relallvisible, c.relpages, s.last_analyze IS NOT NULL "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_stat_all_tables s ON s.relid = c.oid "
            "WHERE n.nspname = 'read_models' "
            "AND c.relname IN ('cycle_time_stage', 'deal_activity', 'funnel_cohort')")).all()
    assert len(rows) == 3
    for name, visible, pages, analyzed in rows:
        assert pages > 0 and visible == pages and analyzed, name


def test_bi_keeps_reading_through_a_rebuild(fresh_engine):
    seed(fresh_engine, deals=40)
    rebuild.rebuild(SALES, owner(fresh_engine))
    conn = psycopg2.connect(owner_url(fresh_engine).replace("postgresql+psycopg2://", "postgresql://"))
    with conn.cursor() as cur:
        cur.execute("SET ROLE bi_reader")
        cur.execute("SELECT count(*) FROM read_models.deal_current")
        assert cur.fetchone()[0] == 40
        cur.execute("SELECT count(*) FROM read_models.stalled_deals")  # the view came back too
        cur.execute("SELECT obj_description('read_models.stalled_deals'::regclass)")
        assert "stall" in cur.fetchone()[0]
        cur.execute("SELECT col_description('read_models.deal_current'::regclass, 1)")
        assert cur.fetchone()[0]
    conn.close()


def test_events_committed_during_the_build_are_caught_up(fresh_engine, monkeypatch):
    seed(fresh_engine, deals=30)
    h = History(fresh_engine)
    real_build = rebuild.build

    def build_then_more_events(*args, **kwargs):
        real_build(*args, **kwargs)
        h.create("late-deal", 5)  # committed after the bulk build read the log
    monkeypatch.setattr(rebuild, "build", build_then_more_events)
    rebuild.rebuild(SALES, owner(fresh_engine))
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM read_models.deal_current "
                                 "WHERE deal_id = 'late-deal'")).scalar() == 1


def test_replay_until_a_position_shows_the_past(fresh_engine):
    h = History(fresh_engine)
    h.create("x1", 0)
    moved = h.move("x1", 1, "lead", "contacted")
    h.sign("x1", 2)
    project_all(fresh_engine)
    schema = rebuild.replay(SALES, fresh_engine, until_position=moved.position)
    with fresh_engine.connect() as conn:
        then = conn.exec_driver_sql(f"SELECT stage, status FROM {schema}.deal_current").one()
        now = conn.execute(text("SELECT stage, status FROM read_models.deal_current")).one()
    assert tuple(then) == ("contacted", "open") and tuple(now) == ("won", "won")


def test_as_of_report_equals_the_live_report_at_that_moment(fresh_engine):
    h = History(fresh_engine)
    client = api(fresh_engine)
    h.create("y1", 0)
    h.move("y1", 1, "lead", "contacted")
    project_all(fresh_engine)
    live_then = client.get("/v1/reports/funnel").json()
    with fresh_engine.connect() as conn:
        moment = conn.execute(text("SELECT max(recorded_at) FROM events.event")).scalar()
    h.sign("y1", 3)
    h.create("y2", 4)
    project_all(fresh_engine)
    as_of = client.get("/v1/reports/funnel", params={"as_of": moment.isoformat()}).json()
    assert as_of["stages"] == live_then["stages"] and as_of["created"] == live_then["created"] == 1
    assert as_of["as_of_position"] == live_then["as_of_position"]
    assert client.get("/v1/reports/funnel").json()["created"] == 2


def test_bi_cannot_read_a_replay(fresh_engine):
    History(fresh_engine).create("bi-r1", 0)
    schema = rebuild.replay(SALES, owner(fresh_engine))
    with as_role(fresh_engine, "bi_reader").cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(f"SELECT count(*) FROM {schema}.deal_current")
    with fresh_engine.connect() as conn:  # the services (and so auditors through the API) can
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {schema}.deal_current").scalar() == 1


def test_cli_rebuild_and_replay(fresh_engine):
    seed(fresh_engine, deals=20)
    env = {**os.environ, "DATABASE_URL": owner_url(fresh_engine)}
    done = subprocess.run([sys.executable, "-m", "services.cli", "rebuild", "sales"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "rebuilt sales through position" in done.stdout, done.stderr
    done = subprocess.run([sys.executable, "-m", "services.cli", "replay", "--until", "10"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "replay_p10" in done.stdout, done.stderr
    bad = subprocess.run([sys.executable, "-m", "services.cli", "rebuild", "nope"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2


def test_a_build_in_several_processes_equals_one_in_one(fresh_engine):
    seed(fresh_engine, deals=60)
    done = []
    rebuild.build(SALES, fresh_engine, "check_one", settled_horizon(fresh_engine))
    rebuild.build(SALES, fresh_engine, "check_three", settled_horizon(fresh_engine), progress=done.append, shares=3)
    assert tables(fresh_engine, "check_three") == tables(fresh_engine, "check_one")
    assert len(tables(fresh_engine, "check_one")["deal_current"]) == 60
    with fresh_engine.connect() as conn:
        assert sum(done) == conn.execute(text("SELECT count(*) FROM events.event")).scalar()


def test_as_of_later_than_the_newest_event_is_refused_and_builds_nothing(fresh_engine):
    h = History(fresh_engine)
    client = api(fresh_engine)
    h.create("f1", 0)
    project_all(fresh_engine)
    with fresh_engine.connect() as conn:
        newest = conn.execute(text("SELECT max(recorded_at) FROM events.event")).scalar()
    later = (newest + timedelta(seconds=1)).isoformat()
    for path, params in (("/v1/reports/funnel", {}), ("/v1/reports/cycle-time", {}),
                         ("/v1/reports/performance", {"period": "2026"}), ("/v1/reports/forecast", {})):
        response = client.get(path, params={**params, "as_of": later})
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_query", path
        assert newest.isoformat()[:19] in response.json()["error"]["message"]
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'asof%'")).scalar() == 0
    assert client.get("/v1/reports/funnel", params={"as_of": newest.isoformat()}).status_code == 200


def test_forecast_honours_as_of(fresh_engine):
    h = History(fresh_engine)
    client = api(fresh_engine)
    h.create("g1", 0, amount="1000")
    h.create("g2", 0, amount="2000")
    project_all(fresh_engine)
    live_then = client.get("/v1/reports/forecast").json()  # the current period takes undated deals
    with fresh_engine.connect() as conn:
        moment = conn.execute(text("SELECT max(recorded_at) FROM events.event")).scalar()
    h.create("g3", 1, amount="4000")
    h.lose("g1", 2)
    project_all(fresh_engine)
    now = client.get("/v1/reports/forecast").json()
    then = client.get("/v1/reports/forecast", params={"as_of": moment.isoformat()}).json()
    assert now["weighted_pipeline"] != live_then["weighted_pipeline"]
    assert then["weighted_pipeline"] == live_then["weighted_pipeline"]
    assert then["stages"] == live_then["stages"] and then["as_of"] == moment.isoformat()


def test_as_of_is_a_query_distinct_concurrent_moments_all_answer_and_create_nothing(fresh_engine):
    h = History(fresh_engine)
    client = api(fresh_engine)
    for n in range(3):
        h.create(f"c{n}", n)
    project_all(fresh_engine)
    with fresh_engine.connect() as conn:
        times = conn.execute(text("SELECT recorded_at FROM events.event WHERE deal_id LIKE 'c_' "
                                  "ORDER BY position")).scalars().all()
        schemas = conn.execute(text("SELECT count(*) FROM pg_namespace")).scalar()
    moments = [(times[-1] - timedelta(microseconds=n)).isoformat() for n in range(12)] + [times[0].isoformat()]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda m: client.get("/v1/reports/funnel", params={"as_of": m}), moments))
    assert [r.status_code for r in answers] == [200] * len(moments)
    assert answers[0].json()["created"] == 3 and answers[-1].json()["created"] == 1
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_namespace")).scalar() == schemas


def test_a_rebuild_keeps_every_declared_index(fresh_engine):
    seed(fresh_engine, deals=10)
    rebuild.rebuild(SALES, owner(fresh_engine))
    wanted = {i.name for t in tables_declared.metadata.tables.values() for i in t.indexes}
    with fresh_engine.connect() as conn:
        present = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = 'read_models'"))
                      .scalars())
    assert wanted and wanted <= present
