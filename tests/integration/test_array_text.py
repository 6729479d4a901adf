"""Array parameters sent as one literal (infra.array_text) read back by PostgreSQL as the
values they were built from, whatever the text holds."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.array_text import array_params, array_text

_TEXTS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
_KINDS = {
    "text": _TEXTS | st.sampled_from(["", "NULL", "null", '"', "\\", "{a,b}", " x ", ",", "'"]),
    "bigint": st.integers(-2**63, 2**63 - 1),
    "numeric": st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**12, max_value=10**12),
    "date": st.dates(date(1, 1, 1), date(9999, 12, 31)),
    "timestamptz": st.datetimes(datetime(1900, 1, 1), datetime(9000, 1, 1),
                                timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5, minutes=-30))])),
    "boolean": st.booleans(),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_server_reads_the_same_values(engine, data):
    kind = data.draw(st.sampled_from(sorted(_KINDS)))
    values = data.draw(st.lists(st.none() | _KINDS[kind], max_size=12))
    with engine.connect() as conn:
        [back] = conn.exec_driver_sql(f"SELECT %(a)s::{kind}[]", {"a": array_text(values)}).one()
    assert back == values


def test_columns_of_rows_go_as_one_literal_each(engine):
    rows = [(date(2026, 1, 1), "rep \"1\"", Decimal("2.50")), (date(2026, 2, 1), None, Decimal("-1"))]
    params = array_params("k", ("day", "who", "amount"), rows)
    assert set(params) == {"k_day", "k_who", "k_amount"} and all(isinstance(v, str) for v in params.values())
    with engine.connect() as conn:
        back = conn.exec_driver_sql("SELECT * FROM unnest(%(k_day)s::date[], %(k_who)s::text[], "
                                    "%(k_amount)s::numeric[])", params).all()
    assert [tuple(r) for r in back] == rows


def test_no_rows_give_empty_arrays():
    assert array_params("k", ("a", "b"), []) == {"k_a": "{}", "k_b": "{}"}


def test_subclasses_are_their_base_values(engine):
    class Color(StrEnum):
        RED = 'r"ed'

    class Size(IntEnum):
        BIG = 7
    with engine.connect() as conn:
        texts, ints = conn.exec_driver_sql("SELECT %(t)s::text[], %(i)s::int[]", {
            "t": array_text([Color.RED, "x", None]), "i": array_text([Size.BIG, 1, None])}).one()
    assert texts == ['r"ed', "x", None] and ints == [7, 1, None]


def test_an_element_without_a_text_form_is_refused():
    with pytest.raises(TypeError, match="float"):
        array_text([1.5])
