from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from events.canonical import GENESIS_HASH, canonical_json, chain_hash
from events.envelope import Envelope


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
