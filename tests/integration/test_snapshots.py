"""The sums snapshotted at recorded moments (projections.sums.snapshots): a relation as of any moment
(the newest snapshot before it plus the change since) equals the sums aggregated from every
versioned row; an event applied at or before a snapshotted moment drops the stale snapshots; the
worker takes a step now and then while busy and the rest of the grid when idle; a rebuild takes
the same grid at once."""
from datetime import timedelta

import pytest
from sqlalchemy import text

from infra.db import make_engine
from projections.read_models import SALES
from projections.reports.relations import DIRECT, AsOf
from projections.runtime import rebuild
from projections.runtime import worker as worker_module
from projections.runtime.worker import Worker, take_snapshots
from projections.sums import snapshots
from tests.integration.projection_helpers import History, api, day, project_all
from tests.owners import owner_url


def _rows(conn, sql: str) -> list[dict]:
    return sorted((dict(r) for r in conn.exec_driver_sql(f"SELECT * FROM ({sql}) t").mappings()),
                  key=lambda r: tuple(str(r[c]) for c in sorted(r)))


def _moments(conn) -> list:
    recorded = conn.execute(text("SELECT DISTINCT recorded_at FROM events.event ORDER BY 1")).scalars().all()
    return [m + d for m in recorded for d in (timedelta(0), timedelta(microseconds=-1))]


def _assert_equal_to_the_definition(engine) -> int:
    """Every snapshotted table as of every recorded moment (and just before it) equals its
    definition; how many comparisons had rows."""
    compared = 0
    with engine.connect() as conn:
        for moment in _moments(conn):
            as_of = AsOf(moment)
            for table, direct in DIRECT.items():
                ours, definition = _rows(conn, as_of.relation(table)[1:-1]), _rows(conn, direct(as_of))
                assert ours == definition, (table, moment)
                compared += bool(ours)
    return compared


def _history(h: History, tag: str) -> None:
    h.create(f"{tag}a", 1, owner="r1", team="t1")
    h.move(f"{tag}a", 3, "lead", "contacted")
    h.create(f"{tag}b", 2, owner="r2", team="t2", segment="ent")
    h.post(f"{tag}a", "deal.contact_logged", 4, channel="call")
    h.move(f"{tag}b", 5, "lead", "contacted")
    h.sign(f"{tag}a", 9, amount="1200")
    h.post(f"{tag}b", "deal.owner_changed", 3, owner_id="r1", team_id="t1")  # back-dated: new versions
    h.post(f"{tag}b", "deal.quote_issued", 4, quote_id="q", amount="700", currency="USD")
    h.lose(f"{tag}b", 12)
    h.post(f"{tag}b", "deal.reopened", 13, to_stage="contacted")  # the close is undone
    h.sign(f"{tag}b", 15, amount="650")


def test_the_sums_as_of_any_moment_equal_their_definition_with_snapshots_on_any_grid(databases):
    engine = make_engine(databases.app_url(databases.fresh()), app_role="dealtrail_app")
    try:
        h = History(engine)
        _history(h, "s")
        project_all(engine)
        assert _assert_equal_to_the_definition(engine) > 0  # no snapshot: the change from the start
        for every in (1, 2, 3):
            with engine.begin() as conn:
                snapshots.invalidate(conn, "read_models", conn.execute(
                    text("SELECT min(recorded_at) FROM events.event")).scalar())
            assert take_snapshots(SALES, engine, budget=60, every=every) >= 3
            assert _assert_equal_to_the_definition(engine) > 0
    finally:
        engine.dispose()


def test_an_event_applied_at_or_before_a_snapshotted_moment_drops_the_stale_snapshots(databases):
    engine = make_engine(databases.app_url(databases.fresh()), app_role="dealtrail_app")
    try:
        h = History(engine)
        _history(h, "l")
        project_all(engine)
        take_snapshots(SALES, engine, budget=60, every=2)
        with engine.begin() as conn:  # the newest snapshot as if taken an hour later (a clock ahead)
            newest = conn.execute(text("SELECT max(moment) FROM read_models.sums_moment")).scalar()
            ahead = newest + timedelta(hours=1)
            conn.execute(text("UPDATE read_models.sums_moment SET moment = :a WHERE moment = :m"),
                         {"a": ahead, "m": newest})
            for table in snapshots.SUMS:
                conn.execute(text(f"UPDATE read_models.{table}_at SET during = tstzrange(:a, upper(during)) "
                                  f"WHERE lower(during) = :m"), {"a": ahead, "m": newest})
                conn.execute(text(f"UPDATE read_models.{table}_at SET during = tstzrange(lower(during), :a) "
                                  f"WHERE upper(during) = :m"), {"a": ahead, "m": newest})
        h.post("la", "deal.feedback_recorded", 10, score=4)  # recorded before `ahead`
        h.create("lc", 11, owner="r3", team="t2")
        project_all(engine)
        with engine.connect() as conn:
            moments = conn.execute(text("SELECT moment FROM read_models.sums_moment")).scalars().all()
            assert ahead not in moments and moments and max(moments) < ahead
            for table in snapshots.SUMS:
                assert not conn.execute(text(f"SELECT count(*) FROM read_models.{table}_at "
                                             f"WHERE lower(during) >= :a OR upper(during) >= :a"),
                                        {"a": ahead}).scalar(), table
        assert _assert_equal_to_the_definition(engine) > 0
        assert take_snapshots(SALES, engine, budget=60, every=2) >= 1  # the grid is taken on again
        assert _assert_equal_to_the_definition(engine) > 0
    finally:
        engine.dispose()


def test_a_busy_worker_takes_a_snapshot_step_per_period_an_idle_one_the_rest_and_a_failure_stays_inside(
        databases, monkeypatch):
    engine = make_engine(databases.app_url(databases.fresh()), app_role="dealtrail_app")
    try:
        h = History(engine)
        _history(h, "b")
        _history(h, "c")
        project_all(engine)
        with engine.connect() as conn:
            head = conn.execute(text("SELECT max(position) FROM events.event")).scalar()
        assert head >= 10
        worker = Worker(SALES, engine, "unused:1", "unused", snapshot_every=2)
        assert worker._snapshots(busy=True) == 0  # within BUSY_PERIOD of its start
        worker.snapshotted -= worker_module.BUSY_PERIOD  # a busy period later
        assert worker._snapshots(busy=True) == 1
        assert worker._snapshots(busy=True) == 0  # within BUSY_PERIOD of the last one
        monkeypatch.setattr(worker_module, "IDLE_BUDGET", 60.0)
        assert worker._snapshots(busy=False) == head // 2 - 1  # the rest of the grid
        with engine.connect() as conn:
            assert conn.execute(text("SELECT max(position) FROM read_models.sums_moment")).scalar() == head // 2 * 2

        def broken(*args, **kwargs):
            raise OSError("the database went away")
        monkeypatch.setattr(worker_module, "take_snapshots", broken)
        assert worker._snapshots(busy=False) == 0  # logged, not raised: the consumer stays
        monkeypatch.setattr(worker_module, "take_snapshots", lambda *a, **k: pytest.fail("retried too soon"))
        assert worker._snapshots(busy=False) == 0
    finally:
        engine.dispose()


def test_a_cohort_funnel_over_whole_months_and_days_around_them_as_of_a_moment_equals_the_live_one(databases):
    engine = make_engine(databases.app_url(databases.fresh()), app_role="dealtrail_app")
    client = api(engine)
    try:
        h = History(engine)
        for deal, at in (("fa", 9), ("fb", 20), ("fc", 45), ("fd", 63), ("fe", 70)):  # Jan 10 ... Mar 12
            h.create(deal, at, segment="smb")
        h.move("fc", 50, "lead", "contacted")
        project_all(engine)
        take_snapshots(SALES, engine, budget=60, every=2)
        with engine.connect() as conn:
            moment = conn.execute(text("SELECT max(recorded_at) FROM events.event")).scalar().isoformat()
        for bounds, created in (({"from": day(5), "to": day(66)}, 4),  # Jan 6 - Mar 8: days, Feb, days
                                ({"from": day(31)}, 3), ({"to": day(40)}, 2), ({}, 5)):
            live = client.get("/v1/reports/funnel", params=bounds).json()
            assert live["created"] == created, bounds
            past = client.get("/v1/reports/funnel", params={**bounds, "as_of": moment}).json()
            past.pop("as_of", None)
            assert past == live, bounds
    finally:
        engine.dispose()


def _snapshot_state(engine) -> dict:
    """Each snapshot moment (with its grid position) and every sums table's rows at it."""
    with engine.connect() as conn:
        moments = conn.execute(text("SELECT moment, position FROM read_models.sums_moment ORDER BY 1")).all()
        return {(moment, position): {table: _rows(conn, f"SELECT {', '.join(sums.columns())} FROM "
                                                        f"read_models.{table}_at "
                                                        f"WHERE during @> '{moment.isoformat()}'::timestamptz")
                                     for table, sums in snapshots.SUMS.items()}
                for moment, position in moments}


def test_a_rebuild_snapshots_the_grid_the_worker_takes_step_by_step(databases):
    engine = make_engine(databases.app_url(databases.fresh()), app_role="dealtrail_app")
    try:
        h = History(engine)
        _history(h, "r")
        _history(h, "q")
        project_all(engine)
        take_snapshots(SALES, engine, budget=60, every=3)
        stepwise = _snapshot_state(engine)
        assert len(stepwise) >= 5 and any(any(tables.values()) for tables in stepwise.values())
        rebuild.rebuild(SALES, make_engine(owner_url(engine), pool_size=2), snapshot_every=3)
        assert _snapshot_state(engine) == stepwise
        assert _assert_equal_to_the_definition(engine) > 0
    finally:
        engine.dispose()
