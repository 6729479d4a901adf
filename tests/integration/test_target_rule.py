"""The target rule (SPEC §4: pace, attainment, status, deviation) at period edges (UTC), through
the SQL functions that the target_attainment view, GET /v1/targets and the watcher all use."""
from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from events.periods import parse

NOV = parse("2026-11")


def at(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture()
def rule(engine):
    with engine.connect() as conn:
        def evaluate(metric, target, actual, period, now, threshold=D("0.2")):
            row = conn.execute(text("""
                SELECT e.elapsed, p.pace, read_models.target_status(:m, :a, p.pace, :t) AS status,
                       read_models.target_deviates(:m, :a, p.pace, :t, e.elapsed) AS deviation
                FROM (SELECT read_models.elapsed_fraction(:s, :e, :now) AS elapsed) e
                CROSS JOIN LATERAL (SELECT read_models.target_pace(:m, :v, e.elapsed) AS pace) p"""),
                {"m": metric, "v": target, "a": actual, "s": period[0], "e": period[1], "now": now,
                 "t": threshold}).mappings().one()
            return row
        yield evaluate


def test_elapsed_fraction_edges(rule):
    assert rule("revenue", D(1), D(1), NOV, at(2026, 11, 1))["elapsed"] == 0
    assert rule("revenue", D(1), D(1), NOV, at(2026, 10, 31, 23, 59))["elapsed"] == 0
    assert rule("revenue", D(1), D(1), NOV, at(2026, 12, 1))["elapsed"] == 1
    assert rule("revenue", D(1), D(1), NOV, at(2027, 3, 1))["elapsed"] == 1
    assert rule("revenue", D(1), D(1), NOV, at(2026, 11, 16))["elapsed"] == D("0.5")
    q4 = parse("2026-Q4")
    assert abs(rule("revenue", D(1), D(1), q4, at(2026, 11, 16))["elapsed"] - D(46) / D(92)) < D("0.0001")
    assert rule("revenue", D(1), D(1), parse("2026"), at(2026, 7, 2, 12))["elapsed"] == D("0.5")
    assert parse("2026-Q1") == (date(2026, 1, 1), date(2026, 4, 1))


def test_pace_scales_cumulative_metrics_only(rule):
    half = at(2026, 11, 16)
    assert rule("revenue", D(1000), D(500), NOV, half)["pace"] == D(500)
    assert rule("win_rate", D("0.3"), D("0.3"), NOV, half)["pace"] == D("0.3")


@pytest.mark.parametrize("metric,target,actual,status", [
    ("revenue", 1000, 500, "on_track"), ("revenue", 1000, 400, "at_risk"), ("revenue", 1000, 399, "behind"),
    ("avg_cycle_days", 30, 36, "at_risk"), ("avg_cycle_days", 30, 37, "behind"), ("avg_cycle_days", 30, 20, "on_track"),
])
def test_status_bands(rule, metric, target, actual, status):
    assert rule(metric, D(target), D(actual), NOV, at(2026, 11, 16))["status"] == status


def test_deviation_needs_a_quarter_of_the_period(rule):
    assert not rule("deals_won", D(30), D(0), NOV, at(2026, 11, 7))["deviation"]   # 20 % elapsed
    assert rule("deals_won", D(30), D(0), NOV, at(2026, 11, 9))["deviation"]       # 26.7 %
    assert not rule("deals_won", D(30), D(7), NOV, at(2026, 11, 9))["deviation"]   # pace 8, 7 >= 6.4


def test_last_day_and_after_the_period(rule):
    last = rule("revenue", D(1000), D(700), NOV, at(2026, 11, 30, 23, 0))
    assert last["status"] == "behind" and last["deviation"]
    after = rule("revenue", D(1000), D(1000), NOV, at(2026, 12, 5))
    assert after["pace"] == D(1000) and after["status"] == "on_track"


def test_threshold_is_configurable(rule):
    half = at(2026, 11, 16)
    assert not rule("revenue", D(1000), D(350), NOV, half, threshold=D("0.4"))["deviation"]
    assert rule("revenue", D(1000), D(350), NOV, half, threshold=D("0.2"))["deviation"]


def test_no_actual_is_not_a_deviation(rule):
    assert not rule("win_rate", D("0.3"), None, NOV, at(2026, 11, 20))["deviation"]


def test_the_view_uses_the_configured_threshold(engine):
    with engine.begin() as conn:
        conn.execute(text("UPDATE read_models.loop_settings SET value = '0.5' WHERE name = 'deviation_threshold'"))
        source = conn.execute(text("SELECT pg_get_viewdef('read_models.target_attainment'::regclass)")).scalar()
        conn.execute(text("UPDATE read_models.loop_settings SET value = '0.2' WHERE name = 'deviation_threshold'"))
    assert "loop_settings" in source and "target_status" in source and "0.8" not in source
