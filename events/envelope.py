"""The event envelope of SPEC §2: stored, published, returned to auditors.

`actor_key_id` (the key that appended the event, beside its name in `actor`) came later: when
null (the system's own events, and every event from before it existed) it is left out of the
envelope's JSON altogether, so those events hash, publish and export exactly as they always
did; when set it is hashed like every other field, so attribution cannot be rewritten unseen."""
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.canonical import canonical_json, chain_hash, format_ts

ENVELOPE_FIELDS = (
    "event_id", "type", "deal_id", "stream_version", "position", "occurred_at", "recorded_at",
    "actor", "actor_key_id", "source", "correlation_id", "causation_id", "schema_version", "data",
    "prev_hash", "hash",
)


@dataclass(frozen=True, slots=True)
class Envelope:
    event_id: str
    type: str
    deal_id: str
    stream_version: int
    position: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    source: str
    correlation_id: str | None
    causation_id: str | None
    schema_version: int
    data: dict[str, Any]
    prev_hash: str
    hash: str
    actor_key_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (timestamps as canonical strings); `data` is shared, not copied."""
        return _json_safe({name: getattr(self, name) for name in ENVELOPE_FIELDS})

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    def computed_hash(self) -> str:
        body = self.to_dict()
        del body["hash"]
        return chain_hash(self.prev_hash, body)

    def to_cloudevent(self) -> dict[str, Any]:
        """CloudEvents 1.0 JSON; Dealtrail fields without a CloudEvents name become extensions."""
        return {
            "specversion": "1.0", "id": self.event_id, "source": self.source, "type": self.type,
            "subject": self.deal_id, "time": format_ts(self.occurred_at),
            "datacontenttype": "application/json", "data": self.data,
            "dealtrailposition": self.position, "dealtrailstreamversion": self.stream_version,
            "dealtrailrecordedat": format_ts(self.recorded_at), "dealtrailactor": self.actor,
            "dealtrailactorkeyid": self.actor_key_id,
            "dealtrailcorrelationid": self.correlation_id, "dealtrailcausationid": self.causation_id,
            "dealtrailschemaversion": self.schema_version, "dealtrailprevhash": self.prev_hash,
            "dealtrailhash": self.hash,
        }


def sealed(**fields: Any) -> Envelope:
    """An envelope with its hash: every field but `hash` given, chained to `prev_hash`."""
    return Envelope(**fields, hash=chain_hash(fields["prev_hash"], _json_safe(fields)))


def _json_safe(fields: dict[str, Any]) -> dict[str, Any]:
    """Envelope fields with the timestamps as canonical strings and a null `actor_key_id` left
    out (a new dict; `data` is shared)."""
    out = dict(fields)
    out["occurred_at"] = format_ts(fields["occurred_at"])
    out["recorded_at"] = format_ts(fields["recorded_at"])
    if out.get("actor_key_id", "") is None:
        del out["actor_key_id"]
    return out


def envelope_from_row(row: Any) -> Envelope:
    """Build from a database row (mapping) of events.event."""
    return Envelope(
        event_id=str(row["event_id"]), type=row["type"], deal_id=row["deal_id"],
        stream_version=row["stream_version"], position=row["position"],
        occurred_at=row["occurred_at"], recorded_at=row["recorded_at"], actor=row["actor"],
        source=row["source"], correlation_id=row["correlation_id"],
        causation_id=row["causation_id"], schema_version=row["schema_version"],
        data=row["data"], prev_hash=row["prev_hash"], hash=row["hash"],
        actor_key_id=row["actor_key_id"],
    )
