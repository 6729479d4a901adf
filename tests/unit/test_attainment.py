"""Pace, attainment, status and the deviation rule at period edges (UTC)."""
from datetime import date, datetime, timezone
from decimal import Decimal as D

from domain.attainment import assess, elapsed_fraction
from events.periods import parse

NOV = parse("2026-11")


def at(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_elapsed_fraction_edges():
    assert elapsed_fraction(*NOV, at(2026, 11, 1)) == 0
    assert elapsed_fraction(*NOV, at(2026, 10, 31, 23, 59)) == 0
    assert elapsed_fraction(*NOV, at(2026, 12, 1)) == 1
    assert elapsed_fraction(*NOV, at(2027, 3, 1)) == 1
    assert elapsed_fraction(*NOV, at(2026, 11, 16)) == D("0.5")


def test_quarter_and_year_periods():
    assert parse("2026-Q4") == (date(2026, 10, 1), date(2027, 1, 1))
    assert parse("2026-Q1") == (date(2026, 1, 1), date(2026, 4, 1))
    assert parse("2026") == (date(2026, 1, 1), date(2027, 1, 1))
    q4 = parse("2026-Q4")
    assert abs(elapsed_fraction(*q4, at(2026, 11, 16)) - D(46) / D(92)) < D("0.0001")
    assert elapsed_fraction(*parse("2026"), at(2026, 7, 2, 12)) == D("0.5")


def test_pace_scales_cumulative_metrics_only():
    half = at(2026, 11, 16)
    assert assess("revenue", D(1000), D(500), *NOV, half).pace == D(500)
    assert assess("win_rate", D("0.3"), D("0.3"), *NOV, half).pace == D("0.3")


def test_status_bands():
    half = at(2026, 11, 16)
    assert assess("revenue", D(1000), D(500), *NOV, half).status == "on_track"
    assert assess("revenue", D(1000), D(400), *NOV, half).status == "at_risk"     # >= 80 % of pace
    assert assess("revenue", D(1000), D(399), *NOV, half).status == "behind"
    assert assess("avg_cycle_days", D(30), D(36), *NOV, half).status == "at_risk"  # lower is better
    assert assess("avg_cycle_days", D(30), D(37), *NOV, half).status == "behind"
    assert assess("avg_cycle_days", D(30), D(20), *NOV, half).attainment == D("1.5")


def test_deviation_needs_a_quarter_of_the_period():
    early = at(2026, 11, 7)    # 20 % elapsed
    later = at(2026, 11, 9)    # 26.7 % elapsed
    assert not assess("deals_won", D(30), D(0), *NOV, early).deviation
    assert assess("deals_won", D(30), D(0), *NOV, later).deviation
    assert not assess("deals_won", D(30), D(7), *NOV, later).deviation  # pace 8, 7 >= 6.4


def test_last_day_and_after_the_period():
    last = at(2026, 11, 30, 23, 0)
    result = assess("revenue", D(1000), D(700), *NOV, last)
    assert result.status == "behind" and result.deviation
    after = assess("revenue", D(1000), D(1000), *NOV, at(2026, 12, 5))
    assert after.pace == D(1000) and after.status == "on_track" and after.attainment == 1


def test_threshold_is_configurable():
    half = at(2026, 11, 16)
    assert not assess("revenue", D(1000), D(350), *NOV, half, threshold=D("0.4")).deviation
    assert assess("revenue", D(1000), D(350), *NOV, half, threshold=D("0.2")).deviation


def test_no_actual_is_not_a_deviation():
    assert not assess("win_rate", D("0.3"), None, *NOV, at(2026, 11, 20)).deviation
