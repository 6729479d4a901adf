"""The jsonb parser (infra.jsontext.loads: orjson where it agrees, the stdlib otherwise; the rebuild scan and
every engine use it) and the request-body parser (loads_decimal) give what the stdlib gives."""
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.jsontext import MAX_EXPONENT, MAX_NUMBER_TEXT, BodyRefused, loads_decimal
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


def test_long_digit_runs_inside_strings_stay_with_orjson(monkeypatch):
    head = '[["deal-1", 0, "' + "0" * 64 + '", {"n": 12, "at": "2026-11-02T09:00:00+00:00"}]]'
    same(head)
    same('["' + "0" * 64 + '", 123456789012345678901234, 0.5]')  # a long integer too: the stdlib's
    same(b'["' + b"1" * 40 + b'", -98765432109876543210]')

    def refuse(*args, **kwargs):
        raise AssertionError("parsed by the stdlib")
    monkeypatch.setattr(json, "loads", refuse)  # a new stream's head (genesis hash): orjson's value
    assert _loads(head) == [["deal-1", 0, "0" * 64, {"n": 12, "at": "2026-11-02T09:00:00+00:00"}]]


def test_what_orjson_refuses():
    same('["\\ud800 lone", "\\udfff"]')


def test_numbers_and_text():
    same('{"a": -0.0, "b": 0.1, "c": 1.7976931348623157e308, "d": 5e-324, "e": "\\u00e9\\t\\"", "f": [1, 2.50]}')
    same('{"x": 0.1000000000000000055511151231257827, "y": 1234567890.123456789, "z": 1e22}')


@given(_json)
def test_same_as_stdlib(value):
    same(json.dumps(value))
    same(json.dumps(value, ensure_ascii=False))


def _typed(value):
    """The value with every leaf's type beside it (Decimal('1.0') == 1 and True == 1 otherwise)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return type(value).__name__, repr(value)


def same_as_decimal_stdlib(text: str | bytes) -> None:
    ours, stdlib = loads_decimal(text), json.loads(text, parse_float=Decimal)
    assert _typed(ours) == _typed(stdlib)


def test_request_bodies_read_fractions_as_decimals():
    same_as_decimal_stdlib(b'{"amount": 12.50, "e": 1e3, "deep": [[{"x": -0.0}]], "n": 3}')
    assert loads_decimal(b'[1, {"a": [2.5]}]') == [1, {"a": [Decimal("2.5")]}]
    same_as_decimal_stdlib(b'[18446744073709551616, "\\ud800", 1]')


def test_request_bodies_fail_as_the_stdlib_fails():
    for text in (b'{"a": 1', b'[NaN]', b'\xef\xbb\xbf{"bom": 1}', '{"x": "é"}'.encode("utf-16")):
        try:
            expected = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            with pytest.raises(type(exc)):
                loads_decimal(text)
        else:
            assert _typed(loads_decimal(text)) == _typed(expected)


@given(_json)
def test_request_bodies_as_the_stdlib_reads_them(value):
    same_as_decimal_stdlib(json.dumps(value).encode())
    same_as_decimal_stdlib(json.dumps(value, ensure_ascii=False))


def test_deep_bodies_are_read_as_the_stdlib_reads_them():
    for depth in (600, 5000):  # below and beyond what the stdlib parses: a float walk must not recurse
        text = ("[" * depth + "1.5" + "]" * depth).encode()
        try:
            expected = json.loads(text, parse_float=Decimal)
        except RecursionError:
            with pytest.raises(RecursionError):
                loads_decimal(text)
        else:
            ours = loads_decimal(text)
            for _ in range(depth):
                ours, expected = ours[0], expected[0]
            assert type(ours) is type(expected) is Decimal and ours == expected


# Issue 23: strict bodies. A duplicated key is refused wherever it is, however it is spaced; a
# number's text is bounded before it is converted.
@pytest.mark.parametrize("text", [
    b'{"a": 1, "a": 2}', b'{"a":1,"a":1}', b'[{"x": {"k": 1, "k" :2}}]', b'{"a": 1,\n"a"\n:\t2}',
    '{"é": 1, "é": 2}', b'{"a": {"b": 1}, "c": 0.5, "a": {"b": 1}}', b'{"s": "\\":", "t": 1, "t": 2}'])
def test_a_duplicated_key_is_refused(text):
    with pytest.raises(BodyRefused) as refused:
        loads_decimal(text)
    assert refused.value.kind == "duplicate_key"


@given(st.dictionaries(st.text(), _json, min_size=1, max_size=4), st.sampled_from([None, 1]), st.booleans())
def test_a_duplicated_key_is_refused_in_any_body(value, indent, nested):
    first = next(iter(value))
    text = json.dumps({"outer": value} if nested else value, indent=indent)
    duplicate = json.dumps(first) + ": null, "
    at = text.index("{", 1) + 1 if nested else 1
    with pytest.raises(BodyRefused):
        loads_decimal((text[:at] + duplicate + text[at:]).encode())


@given(st.dictionaries(st.text(), _json, max_size=6), st.sampled_from([None, 1]))
def test_bodies_without_duplicates_are_not_refused(value, indent):
    same_as_decimal_stdlib(json.dumps(value, indent=indent).encode())


@pytest.mark.parametrize("number, kind", [
    ("1" * (MAX_NUMBER_TEXT + 1), "number_too_long"), ("1." + "0" * MAX_NUMBER_TEXT, "number_too_long"),
    (f"1e{MAX_EXPONENT + 1}", "number_out_of_range"), (f"-2.5E-{MAX_EXPONENT + 1}", "number_out_of_range"),
    ("1e7000000", "number_out_of_range")])
def test_numbers_beyond_the_bounds_are_refused_before_conversion(number, kind):
    with pytest.raises(BodyRefused) as refused:
        loads_decimal(('{"n": [%s]}' % number).encode())
    assert refused.value.kind == kind


def test_numbers_at_the_bounds_are_read():
    edge = ["1" * MAX_NUMBER_TEXT, f"1e{MAX_EXPONENT}", f"-1E-{MAX_EXPONENT}", "1.7976931348623157e308"]
    for number in edge:
        same_as_decimal_stdlib(('{"n": %s}' % number).encode())
