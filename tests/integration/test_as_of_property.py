"""SPEC §5: a report `as_of` a moment equals the report computed live at that moment — for random
histories (back-dated events, voids, reopens, owner changes, updates) and random moments, every
report through the API. The read models are bitemporal: no replay, no schema per request."""
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from infra.db import make_engine
from projections.read_models import SALES
from projections.runtime.worker import take_snapshots
from tests.integration.projection_helpers import api, day, project_all
from tests.integration.strategies import histories, play

REPORTS = [
    ("/v1/reports/funnel", {}),
    ("/v1/reports/funnel", {"from": day(5), "to": day(40), "segment": "smb"}),
    ("/v1/reports/funnel", {"mode": "snapshot", "at": day(20)}),
    ("/v1/reports/funnel", {"mode": "snapshot", "at": day(60)}),
    ("/v1/reports/cycle-time", {"outcome": "won"}),
    ("/v1/reports/cycle-time", {"outcome": "lost", "to": day(70)}),
    ("/v1/reports/performance", {"period": "2026", "scope": "rep"}),
    ("/v1/reports/performance", {"period": "2026-Q1", "scope": "team"}),
    ("/v1/reports/forecast", {"period": datetime.now(timezone.utc).strftime("%Y-%m")}),
]


def reports(client, as_of=None) -> list[dict]:
    out = []
    for path, params in REPORTS:
        response = client.get(path, params={**params, **({"as_of": as_of} if as_of else {})})
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        body.pop("as_of", None)
        out.append(body)
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                               HealthCheck.too_slow])
@given(history=histories(), data=st.data())
def test_a_report_as_of_any_moment_equals_the_live_report_then(databases, history, data):
    cuts = set(data.draw(st.lists(st.integers(0, len(history) - 1), min_size=1, max_size=4)))
    engine = make_engine(databases.app_url(databases.fresh()), app_role="dealtrail_app")
    client = api(engine)
    seen: list[tuple[str, list[dict]]] = []

    def look(i: int) -> None:  # at a cut: project, read every report live, note the moment
        if i not in cuts:
            return
        project_all(engine)
        with engine.connect() as conn:
            moment = conn.execute(text("SELECT max(recorded_at) FROM events.event")).scalar()
        if moment is not None:
            seen.append((moment.isoformat(), reports(client)))
    try:
        play(engine, history, after=look)
        project_all(engine)
        for moment, live in seen:
            assert reports(client, as_of=moment) == live, moment
        # again with the sums snapshotted on a grid (a report adds the change since the newest one).
        # The grid is drawn from the positions the log reached, not from the history's length:
        # refused appends leave holes, and a history whose last appends were all refused ends
        # below len(history) // 2 (then no step of such a grid was ever reached).
        with engine.connect() as conn:
            reached = conn.execute(text("SELECT max(position) FROM events.event")).scalar()
        every = data.draw(st.integers(1, max(1, reached // 2)), label="snapshot every")
        assert take_snapshots(SALES, engine, budget=60, every=every) >= 1
        for moment, live in seen:
            assert reports(client, as_of=moment) == live, (moment, "snapshots")
    finally:
        engine.dispose()
