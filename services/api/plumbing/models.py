"""Response bodies (request bodies are the event models of events.schema)."""
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model
from pydantic_core import to_json
from sqlalchemy import ARRAY, TIMESTAMP, Boolean, Date, Integer, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB

from events.envelope import Envelope
from projections.tables.deal_tables import deal_current

# Every code an error answer carries (plumbing.errors maps each to its status; a test keeps the two
# lists equal).
ErrorCode = Literal[
    "action_conflict", "action_not_found", "bad_request", "before_creation", "deal_closed", "deal_exists",
    "deal_not_closed", "deal_not_found", "event_not_found", "forbidden", "http_error", "idempotency_conflict",
    "internal_error", "invalid_query", "key_name_taken", "key_not_found", "last_admin_key", "method_not_allowed",
    "not_found", "occurred_at_in_future", "out_of_order", "payload_too_large", "pipeline_conflict",
    "reserved_source", "review_closed", "review_exists", "review_not_found", "stage_conflict", "too_many_streams",
    "unauthenticated", "unavailable", "unknown_stage", "unsupported_currency", "unsupported_media_type",
    "validation_error", "version_conflict", "void_conflict"]


class ErrorBody(BaseModel):
    code: ErrorCode = Field(description="Stable, machine-readable: validation_error, deal_not_found, ...")
    message: str = Field(description="For people; may change.")
    details: dict[str, Any] = Field(description="What the code needs to act on, e.g. `errors`, `index`, "
                                                "`actual_version`, `correlation_id`.")


class ErrorOut(BaseModel):
    """Every error: `{"error": {"code", "message", "details"}}`."""
    error: ErrorBody


class AppendOut(BaseModel):
    event_id: str
    deal_id: str
    stream_version: int
    position: int
    recorded_at: datetime
    hash: str

    @classmethod
    def of(cls, env: Envelope) -> "AppendOut":
        return cls(**append_fields(env))


def append_fields(env: Envelope) -> dict[str, Any]:
    """AppendOut's fields of an appended event, as a dict."""
    return {"event_id": env.event_id, "deal_id": env.deal_id, "stream_version": env.stream_version,
            "position": env.position, "recorded_at": env.recorded_at, "hash": env.hash}


class BatchOut(BaseModel):
    results: list[AppendOut]

    @staticmethod
    def json_of(envelopes: list[Envelope]) -> bytes:
        """The JSON of a BatchOut of `envelopes`, from dicts (the same bytes as building the models
        and serializing them, ~5x faster: ~6 ms of a 1,000-event batch's response)."""
        return to_json({"results": [append_fields(env) for env in envelopes]})


class EnvelopeOut(BaseModel):
    event_id: str
    type: str
    deal_id: str
    stream_version: int
    position: int
    occurred_at: str
    recorded_at: str
    actor: str
    actor_key_id: str | None = Field(default=None, description=(
        "The key that appended the event (`actor` is its name). Absent (as it is from the hashed "
        "envelope) for the system's own events and those recorded before migration 0022."))
    source: str
    correlation_id: str | None
    causation_id: str | None
    schema_version: int
    data: dict[str, Any]
    prev_hash: str
    hash: str


class StreamOut(BaseModel):
    deal_id: str
    events: list[EnvelopeOut]


class LogOut(BaseModel):
    events: list[EnvelopeOut]
    next_after: int


# deal_current's column types as the API answers them (money as decimal strings).
_ANSWERED = ((Numeric, str), (TIMESTAMP, datetime), (Date, date), (Boolean, bool), (Integer, int),
             (ARRAY, list[str]), (JSONB, dict[str, Any]), (Text, str))


def _answered(column) -> Any:
    kind = next(py for sql, py in _ANSWERED if isinstance(column.type, sql))
    return (kind | None if column.nullable else kind), Field(description=column.comment)


# One deal of GET /v1/deals: every read_models.deal_current column, typed from its one declaration
# (a new column appears here without touching this module), and `stalled`.
DealRowOut = create_model("DealRowOut", __doc__="One deal of GET /v1/deals: its read_models.deal_current row.",
                          **{c.name: _answered(c) for c in deal_current.c},
                          stalled=(bool, Field(description="No activity for longer than the stage's stall "
                                                           "threshold (stalled_deals).")))


class DealPageOut(BaseModel):
    """A page of GET /v1/deals. Each deal carries every read_models.deal_current column (money as
    decimal strings) and `stalled`."""
    deals: list[DealRowOut]  # type: ignore[valid-type]
    total: int = Field(description="Every deal matching the filters, on all pages.")
    next_cursor: str | None = Field(description="Pass as `cursor` (with the same sort) for the next page; "
                                                "null on the last page.")
    sort: str
    as_of_position: int = Field(description="The read models reflect every event up to this position.")
