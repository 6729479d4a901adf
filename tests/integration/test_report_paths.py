"""The reports read pre-aggregates (funnel_cohort_month, cycle_time_stage, funnel_open_span):
on demo data projected in two steps, those tables equal a full recompute, and every report
answers as the straight queries over the deal tables (and the bench's naive SQL over events) do."""
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from bench.baselines import NAIVE
from domain.pipelines import DEFAULT_PIPELINE as PIPELINE
from events.schema import event_adapter
from infra.db import make_engine
from projections import sales_projection as sales
from projections.reports import cycle_time, funnel
from projections.reports.common import days, money
from projections.runtime import checkpoints
from projections.sums import rollups
from services.appending import Command, append_events
from services.demo import generate
from tests.conftest import APP_ROLE
from tests.integration.projection_helpers import CTX, DEMO_END

NEW_TABLES = ("funnel_cohort_month", "funnel_cohort_month_entered", "cycle_time_stage", "funnel_open_span")
FILTERS = [{}, {"owner_id": "rep-1-1"}, {"team_id": "team-2"}, {"segment": "smb"},
           {"team_id": "team-1", "segment": "mid_market"}]

# The queries the reports ran before the pre-aggregates: the oracle.
_COHORT = """
SELECT d.furthest_stage_index, d.status, d.entered_stages FROM read_models.deal_current d
WHERE d.pipeline = 'default' AND (CAST(%(from)s AS timestamptz) IS NULL OR d.created_at >= %(from)s)
  AND (CAST(%(to)s AS timestamptz) IS NULL OR d.created_at < %(to)s) AND {filters}"""
_CYCLE = """
WITH closed AS (
    SELECT c.deal_id, c.cycle_days FROM read_models.cycle_time_deal c
    WHERE c.outcome = %(outcome)s AND c.pipeline = 'default'
      AND (CAST(%(from)s AS timestamptz) IS NULL OR c.closed_at >= %(from)s)
      AND (CAST(%(to)s AS timestamptz) IS NULL OR c.closed_at < %(to)s) AND {filters}),
dwell AS (
    SELECT h.stage, h.deal_id, sum(h.dwell_seconds) / 86400.0 AS dwell_days
    FROM read_models.deal_stage_history h JOIN closed USING (deal_id)
    WHERE h.dwell_seconds IS NOT NULL GROUP BY h.stage, h.deal_id)
SELECT NULL, count(*), avg(cycle_days), percentile_cont(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY cycle_days)
FROM closed
UNION ALL
SELECT stage, count(*), avg(dwell_days), percentile_cont(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY dwell_days)
FROM dwell GROUP BY stage"""
_SNAPSHOT = """
SELECT v.stage, count(*), coalesce(sum(a.amount), 0)
FROM read_models.deal_stage_history v JOIN read_models.deal_current d ON d.deal_id = v.deal_id
LEFT JOIN LATERAL (
    SELECT h.amount FROM read_models.deal_amount_history h WHERE h.deal_id = v.deal_id AND h.valid_from <= %(at)s
    ORDER BY h.valid_from DESC, h.seq DESC LIMIT 1) a ON true
WHERE v.pipeline = 'default' AND v.entered_at <= %(at)s AND (v.exited_at IS NULL OR v.exited_at > %(at)s)
  AND {filters}
GROUP BY v.stage"""


def _where(filters: dict, alias: str) -> str:
    return " AND ".join([f"{alias}.{name} = %({name})s" for name in filters] or ["true"])


def _all(filters: dict) -> dict:
    return {"owner_id": None, "team_id": None, "segment": None, **filters}


@pytest.fixture(scope="module")
def demo(databases):
    """400 demo deals, projected as the worker would: each deal's first half, then the rest."""
    engine = make_engine(databases.app_url(databases.fresh()), app_role=APP_ROLE, pool_size=4)
    items = list(generate(400, 7, DEMO_END))
    commands = [Command(item.pop("deal_id"), event_adapter.validate_python(item)) for item in items]
    append_events(engine, commands, CTX, currency="USD", batch=True)
    with engine.begin() as conn:
        positions = conn.execute(text("SELECT deal_id, array_agg(position ORDER BY position) FROM events.event "
                                      "GROUP BY deal_id")).all()
        sales.apply(conn, "read_models", {deal: p[(len(p) - 1) // 2] for deal, p in positions})
    with engine.begin() as conn:
        sales.apply(conn, "read_models", {deal: p[-1] for deal, p in positions})
        checkpoints.set_watermark(conn, sales.NAME, max(p[-1] for _, p in positions))
    yield engine
    engine.dispose()


def _rows(conn, table: str) -> list:
    return sorted(map(tuple, conn.exec_driver_sql(f"SELECT * FROM read_models.{table}")), key=repr)


def test_pre_aggregates_equal_a_full_recompute(demo):
    with demo.connect() as conn:
        live = {t: _rows(conn, t) for t in NEW_TABLES}
        assert all(live.values())
        rollups.recompute(conn, "read_models")
        assert {t: _rows(conn, t) for t in NEW_TABLES} == live
        conn.rollback()


def _bounds(rng: random.Random) -> list[tuple]:
    """No bounds, whole months, whole days across months, times inside days, one day."""
    base = DEMO_END - timedelta(days=330)
    out = [(None, None), (datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 6, 1, tzinfo=timezone.utc)),
           (None, datetime(2026, 5, 17, tzinfo=timezone.utc)), (datetime(2026, 2, 3, tzinfo=timezone.utc), None)]
    for _ in range(8):
        a = base + timedelta(days=rng.uniform(0, 320))
        b = a + timedelta(days=rng.choice((0.3, 2, 20, 45, 120)) * rng.random() + 0.01)
        whole = rng.random() < 0.5
        out.append(tuple(t.replace(hour=0, minute=0, second=0, microsecond=0) if whole else t for t in (a, b)))
    return [(a, b) for a, b in out if a is None or b is None or a < b]


def test_cohort_funnel_equals_the_deal_scan(demo):
    rng = random.Random(3)
    with demo.connect() as conn:
        for start, end in _bounds(rng):
            for filters in FILTERS:
                deals = conn.exec_driver_sql(_COHORT.format(filters=_where(filters, "d")),
                                             {"from": start, "to": end, **filters}).all()
                body = funnel.cohort(conn, PIPELINE, "read_models", start, end, **_all(filters))
                assert body["created"] == len(deals)
                assert body["won"] == sum(status == "won" for _, status, _ in deals)
                assert body["lost"] == sum(status == "lost" for _, status, _ in deals)
                assert [(s["reached"], s["entered"]) for s in body["stages"]] == [
                    (sum(f >= k for f, _, _ in deals), sum(stage in e for _, _, e in deals))
                    for k, stage in enumerate(PIPELINE.keys)], (start, end, filters)


def _stats(row) -> dict:
    count, mean, percentiles = row
    p50, p75, p90 = percentiles or (None, None, None)
    return {"count": count, "mean_days": days(mean), "p50_days": days(p50), "p75_days": days(p75),
            "p90_days": days(p90)}


def test_cycle_time_equals_the_history_join(demo):
    rng = random.Random(5)
    with demo.connect() as conn:
        for start, end in _bounds(rng):
            for outcome in ("won", "lost"):
                for filters in FILTERS:
                    rows = conn.exec_driver_sql(_CYCLE.format(filters=_where(filters, "c")),
                                                {"outcome": outcome, "from": start, "to": end, **filters}).all()
                    by_stage = {r[0]: _stats(r[1:]) for r in rows}
                    body = cycle_time.cycle_time(conn, PIPELINE, "read_models", outcome, start, end, **_all(filters))
                    assert body["overall"] == by_stage[None]
                    empty = _stats((0, None, None))
                    assert body["stages"] == [{"stage": s, **by_stage.get(s, empty)} for s in PIPELINE.keys]


def test_snapshot_at_equals_the_visit_scan(demo):
    with demo.connect() as conn:
        # boundaries are where an off-by-one would show: entries, exits, amount changes
        times = conn.exec_driver_sql(
            "(SELECT entered_at FROM read_models.deal_stage_history ORDER BY deal_id, stage LIMIT 15) UNION ALL "
            "(SELECT exited_at FROM read_models.deal_stage_history WHERE exited_at IS NOT NULL "
            " ORDER BY deal_id DESC LIMIT 15) UNION ALL "
            "(SELECT valid_from FROM read_models.deal_amount_history WHERE seq > 1 ORDER BY deal_id LIMIT 15)"
        ).scalars().all()
        times += [DEMO_END - timedelta(days=n, hours=5) for n in (0, 3, 40, 200, 400)]
        for at in times:
            for filters in FILTERS:
                rows = {stage: (n, amount) for stage, n, amount in conn.exec_driver_sql(
                    _SNAPSHOT.format(filters=_where(filters, "d")), {"at": at, **filters})}
                body = funnel.snapshot(conn, PIPELINE, "read_models", at, **_all(filters))
                assert body["stages"] == [{"stage": s, "open": rows.get(s, (0, 0))[0],
                                           "open_amount": money(rows.get(s, (0, 0))[1])} for s in PIPELINE.keys]


def test_the_bench_naive_sql_gives_the_reports_answers(demo):
    with demo.connect() as conn:
        created, won, lost, reached, entered = conn.execute(text(NAIVE["funnel"])).one()
        body = funnel.cohort(conn, PIPELINE, "read_models", None, None, **_all({}))
        assert (created, won, lost) == (body["created"], body["won"], body["lost"])
        assert (reached, entered) == ([s["reached"] for s in body["stages"]], [s["entered"] for s in body["stages"]])
        rows = {r[0]: _stats(r[1:]) for r in conn.execute(text(NAIVE["cycle-time"]))}
        body = cycle_time.cycle_time(conn, PIPELINE, "read_models", "won", None, None, **_all({}))
        assert body["overall"] == rows[None]
        assert body["stages"] == [{"stage": s, **rows[s]} for s in PIPELINE.keys]
