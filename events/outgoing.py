"""What the relay publishes, read straight from events.event: per event its key, headers and
the canonical JSON of its envelope (the bytes of `Envelope.to_json()`), with PostgreSQL
formatting the timestamps and the event id (the relay's Python time is the publishing bound).

`data` comes as jsonb's text and is decoded here: a text with no digit followed by '.', 'e'
or 'E' holds no float (jsonb writes every number in plain decimal), so its envelope is encoded
without walking it for floats (that walk was a quarter of reading a page)."""
import re
from dataclasses import dataclass

from sqlalchemy import Text, cast, func

from events.canonical import canonical_bytes
from events.envelope import ENVELOPE_FIELDS
from events.tables import event
from infra.jsontext import loads

# format_ts in SQL: UTC, microseconds, a Z
_UTC_TEXT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def _utc_text(column):
    return func.to_char(func.timezone("UTC", column), _UTC_TEXT).label(column.name)


COLUMNS = [cast(event.c[name], Text).label(name) if name in ("event_id", "data")
           else _utc_text(event.c[name]) if name in ("occurred_at", "recorded_at") else event.c[name]
           for name in ENVELOPE_FIELDS]
_MAYBE_FLOAT = re.compile(r"[0-9][.eE]")


@dataclass(frozen=True, slots=True)
class Outgoing:
    position: int
    deal_id: str
    type: str
    value: bytes  # the envelope's canonical JSON


def outgoing_from_row(row) -> Outgoing:
    # plain str keys: SQLAlchemy's labels are a str subclass, which orjson refuses (the stdlib
    # encoder would take over for every message)
    envelope = dict(zip(ENVELOPE_FIELDS, row.values()))
    if envelope["actor_key_id"] is None:  # left out when null, as Envelope.to_json leaves it
        del envelope["actor_key_id"]
    data = envelope["data"]
    envelope["data"] = loads(data)
    value = canonical_bytes(envelope, float_free=_MAYBE_FLOAT.search(data) is None)
    return Outgoing(envelope["position"], envelope["deal_id"], envelope["type"], value)
