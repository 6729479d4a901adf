"""Issue 7, finding 1: the value types accept exactly what the code can hold."""
from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from events import periods
from events.values import Day, Id, Period, Text, Timestamp

timestamp, day, period = TypeAdapter(Timestamp), TypeAdapter(Day), TypeAdapter(Period)


@pytest.mark.parametrize("value", ["0000", "0001", "1969-12", "9999", "9999-12", "9999-Q4", "2026-13", "2026-Q5", "26"])
def test_periods_outside_the_years_the_code_handles_are_rejected(value):
    with pytest.raises(ValueError):
        periods.check(value)
    with pytest.raises(ValidationError):
        period.validate_python(value)


@pytest.mark.parametrize("value, bounds", [
    ("1970", (date(1970, 1, 1), date(1971, 1, 1))),
    ("9998-12", (date(9998, 12, 1), date(9999, 1, 1))),
    ("9998-Q4", (date(9998, 10, 1), date(9999, 1, 1))),
    ("2026-Q1", (date(2026, 1, 1), date(2026, 4, 1))),
])
def test_periods_at_the_edges_have_representable_ends(value, bounds):
    assert periods.parse(value) == bounds and period.validate_python(value) == value


def test_periods_already_in_the_log_still_parse():
    """Projections parse stored events with `parse`, which the API's narrower range leaves alone."""
    assert periods.parse("1969-12") == (date(1969, 12, 1), date(1970, 1, 1))
    assert periods.parse("0001") == (date(1, 1, 1), date(2, 1, 1))


@pytest.mark.parametrize("value", [
    "0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z", "9999-01-01T00:00:00Z",
    "9998-12-31T23:00:00-14:00", "2026-01-01T00:00:00+16:00", "2026-01-01T00:00:00-14:30", "1700000000", 1700000000,
    0.5, "2026-01-01T00:00:00", "yesterday",
])
def test_timestamps_out_of_range_or_not_iso_are_rejected(value):
    with pytest.raises(ValidationError):
        timestamp.validate_python(value)


def test_timestamps_keep_the_offset_they_were_sent_with():
    value = timestamp.validate_python("2026-11-02T09:00:00+02:00")
    assert value.utcoffset() == timedelta(hours=2)
    assert timestamp.validate_python(datetime(1970, 1, 1, tzinfo=timezone.utc)).year == 1970


@pytest.mark.parametrize("value", ["0001-01-01", "1969-12-31", "9999-12-31", "20261130", 20261130])
def test_days_out_of_range_or_not_iso_are_rejected(value):
    with pytest.raises(ValidationError):
        day.validate_python(value)


def test_text_refuses_nul_and_ids_refuse_control_characters():
    assert TypeAdapter(Text).validate_python("line one\nline two\t") == "line one\nline two\t"
    for adapter, value in ((Text, "a\x00b"), (Id, "rep\x00"), (Id, "rep\n1"), (Id, "x\x7f")):
        with pytest.raises(ValidationError):
            TypeAdapter(adapter).validate_python(value)
