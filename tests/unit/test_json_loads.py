"""The jsonb parser (infra.jsontext.loads: orjson where it agrees, the stdlib otherwise; the rebuild scan and every engine use it) gives what the stdlib gives."""
import json

from hypothesis import given, strategies as st

from infra.jsontext import loads as _loads

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=12)


def same(text: str) -> None:
    ours, stdlib = _loads(text), json.loads(text)
    assert ours == stdlib and repr(ours) == repr(stdlib)


def test_integers_beyond_64_bits_stay_integers():  # orjson alone makes them floats
    same('{"big": 123456789012345678901234567890, "neg": -98765432109876543210}')
    same('[9223372036854775807, 9223372036854775808, -9223372036854775808, -9223372036854775809]')
    same('[18446744073709551615, 18446744073709551616]')


def test_what_orjson_refuses():
    same('["\\ud800 lone", "\\udfff"]')


def test_numbers_and_text():
    same('{"a": -0.0, "b": 0.1, "c": 1.7976931348623157e308, "d": 5e-324, "e": "\\u00e9\\t\\"", "f": [1, 2.50]}')
    same('{"x": 0.1000000000000000055511151231257827, "y": 1234567890.123456789, "z": 1e22}')


@given(_json)
def test_same_as_stdlib(value):
    same(json.dumps(value))
    same(json.dumps(value, ensure_ascii=False))
