"""The watcher cannot wedge: each duty and each item stands alone, reviews open once by id
(whatever their figures say by then), and forecast snapshots taken late say so."""
import logging
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import text

from services import watch
from tests.integration.projection_helpers import History, api, project_all

NOV23 = datetime(2026, 11, 23, tzinfo=timezone.utc)


def stalled(h, owner, n, first=0):
    for i in range(first, first + n):
        h.create(f"{owner}-{i}", 0, owner=owner)  # January, never touched again: stalled


def run_round(engine, now=NOV23):
    return watch.run_round(engine, now, threshold=Decimal("0.2"), currency="USD", stalled_level=3)


def test_a_grown_stalled_count_does_not_wedge_the_watcher(fresh_engine):
    h = History(fresh_engine)
    stalled(h, "slow", 3)
    project_all(fresh_engine)
    assert watch.check_stalled(fresh_engine, NOV23, 3, "USD") == ["slow"]
    stalled(h, "slow", 1, first=3)      # four now: the review's figures would differ
    stalled(h, "other", 3)
    project_all(fresh_engine)
    assert watch.check_stalled(fresh_engine, NOV23, 3, "USD") == ["other"]
    assert watch.check_stalled(fresh_engine, NOV23, 3, "USD") == []
    project_all(fresh_engine)
    reviews = api(fresh_engine).get("/v1/reviews").json()["reviews"]
    assert sorted((r["scope_id"], r["actual"]) for r in reviews) == [("other", 3.0), ("slow", 3.0)]


def test_a_failing_duty_or_item_does_not_stop_the_others(fresh_engine, monkeypatch, caplog):
    h = History(fresh_engine)
    stalled(h, "bad", 3)
    stalled(h, "good", 3)
    project_all(fresh_engine)
    real = watch._append_review

    def flaky(engine, review_id, data, currency):
        if data["scope_id"] == "bad":
            raise RuntimeError("boom")
        return real(engine, review_id, data, currency)
    monkeypatch.setattr(watch, "_append_review", flaky)
    monkeypatch.setattr(watch, "check_deviations", lambda *a, **k: 1 / 0)
    with caplog.at_level(logging.ERROR, logger="dealtrail.watch"):
        done = run_round(fresh_engine)
    assert done["stalled"] == ["good"] and done["deviations"] is None
    assert done["snapshots"] > 0
    assert "deviations" in caplog.text and "bad" in caplog.text


def test_snapshots_taken_after_the_period_started_are_marked_partial(fresh_engine):
    """A fresh install mid-period has no forecast of the period's start to record."""
    now = datetime(2026, 11, 1, 0, 5, tzinfo=timezone.utc)
    assert watch.take_snapshots(fresh_engine, now) == 3  # company: month, quarter, year
    with fresh_engine.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT period, partial FROM read_models.forecast_snapshot WHERE scope = 'company'")).all())
        reason = conn.execute(text("SELECT partial_reason FROM read_models.forecast_snapshot "
                                   "WHERE period = '2026'")).scalar()
    assert rows == {"2026-11": False, "2026-Q4": True, "2026": True}
    assert "2026-01-01" in reason


def test_accuracy_flags_partial_snapshots(fresh_engine):
    h = History(fresh_engine)
    h.create("w", 300, amount="1000")
    h.sign("w", 301, "1000")            # won Oct 29 2026
    project_all(fresh_engine)
    watch.take_snapshots(fresh_engine, datetime(2026, 10, 20, tzinfo=timezone.utc))
    body = api(fresh_engine).get("/v1/reports/forecast", params={"period": "2026-11"}).json()
    [october] = [a for a in body["accuracy"] if a["period"] == "2026-10"]
    assert october["partial"] is True and october["error"] is None
    assert "after the period started" in october["partial_reason"]


def test_a_deviation_seen_again_with_other_figures_before_projection_is_not_a_conflict(fresh_engine):
    h = History(fresh_engine)
    h.create("a1", 2, owner="r1")
    h.sign("a1", 10)
    target = {"scope": "rep", "scope_id": "r1", "period": "2026-01", "metric": "deals_won", "value": 10}
    assert api(fresh_engine).post("/v1/targets", json=target).status_code == 201
    project_all(fresh_engine)
    jan20, jan21 = datetime(2026, 1, 20, tzinfo=timezone.utc), datetime(2026, 1, 21, tzinfo=timezone.utc)
    assert watch.check_deviations(fresh_engine, jan20, Decimal("0.2"), "USD") == ["rep.r1.2026-01.deals_won"]
    assert watch.check_deviations(fresh_engine, jan21, Decimal("0.2"), "USD") == []  # pace moved on
