"""A deal's state as stored (events.stream_head.state, with the fold's version) and as the API
shows it. Pure."""
from collections.abc import Mapping
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.deal import FOLD_VERSION, DealState, to_date, to_decimal

_DECIMALS = {"expected_amount", "latest_quote_amount", "signed_amount"}
_TIMES = {"created_at", "stage_entered_at", "closed_at", "last_contact_at", "last_quote_at"}


_FIELDS = tuple(f.name for f in fields(DealState))  # dataclasses.fields() per call was a third of a dump
# stored forms by type (a dict lookup per field: isinstance chains were most of a dump)
_STORED = {Decimal: lambda v: format(v, "f"), date: date.isoformat, tuple: list}  # datetimes: _encoded's iso


def to_json(state: DealState) -> dict[str, Any]:
    """Every field (the API's body starts from it)."""
    return _encoded(state, False)


def to_stored(state: DealState) -> dict[str, Any]:
    """As stored (stream heads, fold points): fields that are None and default to None left out
    (from_json gives them their default again), a fifth of a new deal's bytes."""
    return _encoded(state, True)


_NONE_BY_DEFAULT = frozenset(f.name for f in fields(DealState) if f.default is None)


def _encoded(state: DealState, compact: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"fold_version": FOLD_VERSION}
    texts: dict[int, str] = {}  # a deal's moments are mostly one or two: each written once

    def iso(at: datetime) -> str:
        text = texts.get(id(at))
        if text is None:
            text = texts[id(at)] = at.isoformat()
        return text
    for name in _FIELDS:
        value = getattr(state, name)
        if value is None:
            if not compact or name not in _NONE_BY_DEFAULT:
                out[name] = None
            continue
        if type(value) is datetime:
            out[name] = iso(value)
            continue
        stored = _STORED.get(type(value))
        out[name] = value if stored is None else stored(value)
    out["set_at"] = {k: [iso(at), version] for k, (at, version) in state.set_at.items()}
    return out


def from_json(data: Mapping[str, Any]) -> DealState | None:
    """The stored state, or None if it was stored by another fold version (fold it again)."""
    if data.get("fold_version") != FOLD_VERSION:
        return None
    values = {k: v for k, v in data.items() if k != "fold_version"}
    for name in _DECIMALS:
        values[name] = to_decimal(values.get(name))
    for name in _TIMES:
        values[name] = None if values.get(name) is None else datetime.fromisoformat(values[name])
    values["expected_close_date"] = to_date(values.get("expected_close_date"))
    values["stages"] = tuple(values.get("stages") or ())
    values["set_at"] = {k: (datetime.fromisoformat(at), version)
                        for k, (at, version) in values.get("set_at", {}).items()}
    return DealState(**values)


def as_api(state: DealState) -> dict[str, Any]:
    """GET /v1/deals/{id}: the state, with the derived amount and stall clock."""
    body = to_json(state)
    for name in ("fold_version", "set_at"):
        body.pop(name)
    body["customer"] = {"id": state.customer_id, "name": state.customer_name, "segment": state.segment,
                        "region": state.region}
    body["current_amount"] = None if state.current_amount is None else format(state.current_amount, "f")
    body["last_activity_at"] = state.last_activity_at.isoformat() if state.last_activity_at else None
    return body
