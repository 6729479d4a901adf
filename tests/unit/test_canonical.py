from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import TzInfo

from events.canonical import (
    GENESIS_HASH,
    canonical_bytes,
    canonical_json,
    chain_hash,
    format_ts,
    jsonb_text,
    reference_json,
)
from events.envelope import Envelope
from infra.jsontext import loads


def test_keys_sorted_no_whitespace_decimals_as_strings():
    assert canonical_json({"b": Decimal("1.50"), "a": [1, "x"]}) == '{"a":[1,"x"],"b":"1.50"}'


def test_timestamps_are_utc_with_microseconds():
    t = datetime(2026, 11, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert canonical_json({"t": t}) == '{"t":"2026-11-02T09:00:00.000000Z"}'


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError):
        canonical_json({"t": datetime(2026, 1, 1)})


def test_unicode_is_kept_verbatim():
    assert canonical_json({"name": "Müller"}) == '{"name":"Müller"}'


def _envelope(**over):
    t = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    base = dict(event_id="e1", type="deal.created", deal_id="d1", stream_version=1, position=7,
                occurred_at=t, recorded_at=t, actor="a", source="/s", correlation_id=None,
                causation_id=None, schema_version=1, data={"x": "1"}, prev_hash=GENESIS_HASH, hash="")
    base.update(over)
    return Envelope(**base)


def test_hash_covers_every_envelope_field_but_itself():
    env = _envelope()
    h = env.computed_hash()
    assert h == chain_hash(GENESIS_HASH, {k: v for k, v in env.to_dict().items() if k != "hash"})
    assert _envelope(hash="anything").computed_hash() == h
    for change in ({"position": 8}, {"actor": "b"}, {"data": {"x": "2"}}, {"prev_hash": "1" * 64}):
        assert _envelope(**change).computed_hash() != h


def test_cloudevent_names():
    ce = _envelope().to_cloudevent()
    assert ce["specversion"] == "1.0" and ce["id"] == "e1" and ce["subject"] == "d1"
    assert ce["time"] == "2026-11-02T09:00:00.000000Z"


_KEYS = st.text(max_size=12)
_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 63), max_value=2 ** 64 - 1)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text() | st.decimals(allow_nan=False, allow_infinity=False)
            | st.datetimes(min_value=datetime(1000, 1, 2), timezones=st.sampled_from(
                [timezone.utc, timezone(timedelta(hours=-11, minutes=-30)), timezone(timedelta(hours=14))]))
            | st.dates(min_value=date(1000, 1, 1)))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(_KEYS, inner, max_size=5), max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=8))
def test_fast_encoder_gives_the_reference_bytes(obj):
    """The hashes of every stored event were made with the stdlib encoder: orjson must give
    the same text for everything an event, a state or a digest can hold."""
    assert canonical_json(obj) == reference_json(obj)
    assert loads(canonical_bytes(obj)) == loads(reference_json(obj))


def test_what_orjson_refuses_or_writes_otherwise_goes_to_the_reference_encoder():
    for obj in ({3: "a", 10: "b"}, {"n": 2 ** 70}, [2 ** 70, "x"], {"f": {"x": [1e-05, 1e16]}}, (0.1, 2.5e-7)):
        assert canonical_json(obj) == reference_json(obj)
    for big in (2 ** 70 + 1, 123456789012345678901234567890, -(2 ** 64)):  # orjson would give floats
        for decoded in (loads('{"n": %d}' % big)["n"], loads(b"[%d]" % big)[0]):
            assert decoded == big and type(decoded) is int
    with pytest.raises(ValueError):
        canonical_json({"nan": float("nan")})


def test_jsonb_parameters_hold_the_canonical_value():
    """jsonb_text (the append's parameters) may spell numbers its own way but holds the values
    the canonical form holds: timestamps as the canonical strings (hashes are verified from what
    is stored), and what orjson refuses through the reference encoder."""
    t = datetime(2026, 11, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    for obj in ({"t": t, "d": date(2026, 1, 2), "m": Decimal("1.50")}, {3: "a"}, {"n": 2 ** 70},
                [{"f": {"x": [1e-05, 1e16]}}, None, True]):
        assert loads(jsonb_text(obj)) == loads(reference_json(obj))
    assert loads(jsonb_text([t]))[0] == "2026-11-02T09:00:00.000000Z"


def test_timestamps_format_like_strftime():
    for t in (datetime(1970, 1, 1, tzinfo=timezone.utc),
              datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
              datetime(2026, 3, 29, 1, 30, 0, 5, tzinfo=timezone(timedelta(hours=-3)))):
        assert format_ts(t) == t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_an_instant_formats_the_same_whatever_its_zone_and_whichever_came_first():
    utc = datetime(2026, 11, 2, 9, 0, 0, 7, tzinfo=timezone.utc)
    plus_one = utc.astimezone(timezone(timedelta(hours=1)))
    assert format_ts(plus_one) == format_ts(utc) == "2026-11-02T09:00:00.000007Z"
    with pytest.raises(ValueError):  # a naive time equal in fields to a cached one is still refused
        format_ts(utc.replace(tzinfo=None))


_ZONES = st.sampled_from([timezone.utc, timezone(timedelta(0), "GMT"), timezone(timedelta(hours=5, minutes=30)),
                          timezone(timedelta(hours=-14)), TzInfo(0), TzInfo(-3600)])


@given(st.datetimes(datetime(1000, 1, 2), datetime(9999, 12, 30)), _ZONES)
def test_any_instant_formats_like_strftime(naive, zone):  # orjson's text where it is the same, isoformat else
    t = naive.replace(tzinfo=zone)
    expected = t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert format_ts.__wrapped__(t) == expected and format_ts(t) == expected
