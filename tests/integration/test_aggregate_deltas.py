"""Aggregates kept by deltas (projections.sums.deltas.apply_changes): after any removal and
addition of deal rows they equal a full recompute and the definitions the tables had before
(the SQL below computed funnel_daily, funnel_cohort and the performance tables from the
deal-level rows); and a change costs the same however much unrelated history the keys have."""
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from infra.db import make_engine
from projections.deals.history import Step
from projections.deals.writer import DealWrite, write_deals
from projections.sums import deltas as aggregates
from projections.tables.groups import AGGREGATE_TABLES
from tests.conftest import APP_ROLE
from tests.integration.aggregate_helpers import check
from tests.integration.projection_helpers import History, project_all
from tests.integration.strategies import histories, play


@pytest.fixture(scope="module")
def module_engine(databases):
    eng = make_engine(databases.app_url(databases.fresh()), app_role=APP_ROLE, pool_size=4)
    yield eng
    eng.dispose()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                               HealthCheck.too_slow])
@given(first=histories(), second=histories(), data=st.data())
def test_any_removal_and_addition_equals_a_full_recompute(module_engine, first, second, data):
    split = data.draw(st.integers(0, len(first)))
    play(module_engine, first[:split])
    project_all(module_engine)  # every deal so far re-derived: old rows out, new rows in
    play(module_engine, first[split:])
    project_all(module_engine)
    check(module_engine)
    with module_engine.connect() as conn:
        deals = [d for (d,) in conn.exec_driver_sql("SELECT deal_id FROM read_models.deal_current ORDER BY 1")]
    # drawn independently of the database (which other examples changed): positions, then deals
    picks = data.draw(st.lists(st.integers(0, 10_000), max_size=6))
    gone = sorted({deals[i % len(deals)] for i in picks}) if deals else []
    with module_engine.begin() as conn:
        gone_now = Step(datetime.now(timezone.utc), None, resumed=False)
        write_deals(conn, "read_models", [DealWrite(d, full=True, steps=[gone_now]) for d in gone])  # rows removed
    check(module_engine)
    play(module_engine, second)
    project_all(module_engine)  # the removed deals come back, new ones arrive
    check(module_engine)


_STATS = """
SELECT relname, seq_tup_read, coalesce(idx_tup_fetch, 0), n_tup_ins, n_tup_upd, n_tup_del  -- no index: null
FROM pg_stat_xact_user_tables WHERE schemaname = 'read_models'
"""


def _cost_of_a_change(engine, monkeypatch, unrelated: int) -> tuple[int, dict]:
    """Rows read and written, and statements run, by the aggregates for one back-dated change of
    a deal, after `unrelated` other deals of the same rep, team and stages over ten months."""
    history = History(engine)
    history.create("measured", 0)
    for n in range(unrelated):
        deal = f"other{n}"
        history.create(deal, 10 + 3 * n % 290)
        history.move(deal, 12 + 3 * n % 290, "lead", "contacted")
        history.post(deal, "deal.contact_logged", 15 + 3 * n % 290, channel="call")
        if n % 3 == 0:
            history.sign(deal, 20 + 3 * n % 290)
    project_all(engine)
    history.move("measured", 5, "lead", "contacted")
    history.post("measured", "deal.contact_logged", 6, channel="call")
    cost: dict = {}
    statements = []
    real = aggregates.apply_changes

    def measured(conn, schema, removed, added):
        # index probes, as the planner chooses them on tables of production size
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            conn.exec_driver_sql(f"SET LOCAL {setting} = off")
        before = {r[0]: r[1:] for r in conn.exec_driver_sql(_STATS)}
        count = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(conn, "before_cursor_execute", count)
        real(conn, schema, removed, added)
        event.remove(conn, "before_cursor_execute", count)
        for name, *now in conn.exec_driver_sql(_STATS):
            delta = tuple(a - b for a, b in zip(now, before.get(name, (0,) * 5)))
            if any(delta):
                cost[name] = delta
    monkeypatch.setattr(aggregates, "apply_changes", measured)
    project_all(engine)
    monkeypatch.undo()
    return len(statements), cost


def test_a_change_costs_the_same_however_long_the_history(databases, monkeypatch):
    costs = []
    for unrelated in (2, 60):
        eng = make_engine(databases.app_url(databases.fresh()), app_role=APP_ROLE, pool_size=2)
        costs.append(_cost_of_a_change(eng, monkeypatch, unrelated))
        eng.dispose()
    (small_statements, small), (large_statements, large) = costs
    assert small_statements == large_statements == 1  # one round trip
    assert small == large
    assert set(small) <= {*AGGREGATE_TABLES, "deal_activity"}  # deal_activity: the rep's latest team
