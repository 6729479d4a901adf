"""COPY text built a column at a time is the text of each value formatted by its type."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from projections.runtime.copy_text import copy_text, value_text

UTC = timezone.utc
PLUS2 = timezone(timedelta(hours=2))


def per_value(rows) -> str:
    return "".join("\t".join(value_text(v) for v in row) + "\n" for row in rows)


def test_nulls_and_escapes():
    rows = [("a\tb", None, "line\nbreak", "back\\slash", "cr\r"), (None, None, "plain", "\\N", None)]
    assert copy_text(rows) == ("a\\tb\t\\N\tline\\nbreak\tback\\\\slash\tcr\\r\n"
                               "\\N\t\\N\tplain\t\\\\N\t\\N\n")


def test_text_columns_without_specials_pass_through():
    assert copy_text([("x", None), ("y", "z")]) == "x\t\\N\ny\tz\n"


def test_timestamps_keep_their_offsets():
    moment = datetime(2026, 3, 1, 12, 30, 5, 123, tzinfo=UTC)
    same_moment = moment.astimezone(PLUS2)  # equal to `moment`, written with its own offset
    times: dict = {}
    text = copy_text([(moment,), (same_moment,), (None,), (moment.replace(microsecond=0),)], times)
    assert text == ("2026-03-01T12:30:05.000123+00:00\n2026-03-01T14:30:05.000123+02:00\n\\N\n"
                    "2026-03-01T12:30:05+00:00\n")
    assert copy_text([(same_moment,)], times) == "2026-03-01T14:30:05.000123+02:00\n"  # shared cache


def test_decimals_keep_their_scale():
    assert copy_text([(Decimal("1.0"),), (Decimal("1.00"),), (Decimal("-0"),)]) == "1.0\n1.00\n-0\n"


def test_mixed_columns_and_other_types():
    rows = [(True, 1, 1.5, date(2026, 1, 31), ["a", 'b"c', "d\\e"], {"k": "v\t", "n": 1}),
            (False, 0, -0.0, None, [], {})]
    assert copy_text(rows) == per_value(rows)
    assert copy_text([(1,), (True,), (1.0,), (None,)]) == "1\nt\n1.0\n\\N\n"


def test_no_rows():
    assert copy_text([]) == ""


_scalars = st.one_of(st.none(), st.text(), st.integers(), st.booleans(),
                     st.decimals(allow_nan=False, allow_infinity=False),
                     st.floats(allow_nan=False, allow_infinity=False), st.dates(),
                     st.datetimes(timezones=st.sampled_from([UTC, PLUS2, timezone(timedelta(hours=-5))])))


@given(st.integers(1, 4).flatmap(lambda width: st.lists(st.tuples(*[_scalars] * width), min_size=1, max_size=20)))
def test_same_text_as_each_value_formatted(rows):
    assert copy_text(rows) == per_value(rows)
