"""Canonical JSON: one encoding for hashing, storage comparison and Kafka values.

Keys sorted, no whitespace, UTF-8, decimals as strings, timestamps as UTC ISO-8601 with
microseconds and a `Z`. Re-encoding a stored envelope gives the same bytes, which is what
makes the hash chain verifiable.

Encoded by orjson (in C; the stdlib encoder was a fifth of an append's CPU). It gives the
bytes of the reference encoder (`reference_json`, the stdlib one these hashes were first made
with) for everything events, states and digests hold: strings, integers, decimals, booleans,
null, timestamps, dates, lists and objects with string keys — a property test keeps them equal.
What orjson refuses (keys that are not strings, integers beyond 64 bits) goes to the reference
encoder, and so does anything holding a float (custom fields of deal.updated may): the two
encoders write some floats differently (1e-05 / 0.00001), and the stored hashes are the stdlib's."""
import hashlib
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from uuid import UUID

import orjson

GENESIS_HASH = "0" * 64
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


@lru_cache(maxsize=8192)
def format_ts(value: datetime) -> str:
    """The canonical text of an instant. Cached: an append formats each moment about four times
    (the hash's envelope, the row's parameters), a batch's recorded_at a thousand times; at
    ~2.7 us a call that was ~8% of a batch append's API CPU. Equal instants in other zones share
    their text, as they must."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    if value.microsecond and value.utcoffset() == _NO_OFFSET:  # most: orjson's text is this one
        return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()  # 0.6 us, not 2.7
    # isoformat of a UTC time ends in "+00:00"; years 1000-9999 give what strftime gave
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"


_NO_OFFSET = timedelta(0)


def _default(value):
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    raise TypeError(f"not JSON-encodable: {type(value).__name__}")


def reference_json(obj) -> str:
    """The stdlib encoding the canonical form was defined with."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_default, allow_nan=False)


def canonical_bytes(obj, *, float_free: bool = False) -> bytes:
    """`float_free`: the caller knows `obj` holds no float (skips looking for one)."""
    if not float_free and _holds_float(obj):
        return reference_json(obj).encode("utf-8")
    try:
        return orjson.dumps(obj, default=_default, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: a key that is not a string, a huge integer, ...
        return reference_json(obj).encode("utf-8")


def _holds_float(obj) -> bool:
    if isinstance(obj, float):
        return True
    if isinstance(obj, dict):
        obj = obj.values()
    elif not isinstance(obj, (list, tuple)):
        return False
    for value in obj:
        if type(value) not in _FLAT and _holds_float(value):
            return True
    return False


_FLAT = frozenset((str, int, bool, type(None), datetime, date, Decimal))  # cannot hold a float


def canonical_json(obj) -> str:
    return canonical_bytes(obj).decode("utf-8")


def jsonb_text(obj) -> str:
    """JSON for a json/jsonb parameter, where PostgreSQL keeps the value, not the spelling: orjson
    without the canonical checks, the canonical encoder for what orjson refuses (keys that are
    not strings, integers beyond 64 bits). Timestamps as the canonical strings: the ones inside
    `data` are strings, and hashes are verified from what is stored."""
    try:
        return orjson.dumps(obj, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()
    except TypeError:
        return canonical_json(obj)


def chain_hash(prev_hash: str, envelope_without_hash: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_bytes(envelope_without_hash)).hexdigest()


def digest(obj) -> str:
    return hashlib.sha256(canonical_bytes(obj)).hexdigest()
