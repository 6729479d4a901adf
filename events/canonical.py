"""Canonical JSON: one encoding for hashing, storage comparison and Kafka values.

Keys sorted, no whitespace, UTF-8, decimals as strings, timestamps as UTC ISO-8601 with
microseconds and a `Z`. Re-encoding a stored envelope gives the same bytes, which is what
makes the hash chain verifiable."""
import hashlib
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from uuid import UUID

GENESIS_HASH = "0" * 64


def format_ts(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _default(value):
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    raise TypeError(f"not JSON-encodable: {type(value).__name__}")


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_default, allow_nan=False)


def chain_hash(prev_hash: str, envelope_without_hash: dict) -> str:
    payload = prev_hash + canonical_json(envelope_without_hash)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def digest(obj) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()
