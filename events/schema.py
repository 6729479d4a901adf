"""Incoming events: `{event_id?, type, occurred_at?, expected_version?, data}`, one model per
type, joined in a union discriminated on `type` (this is also the OpenAPI schema)."""
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from events import payloads
from events.payloads import DEAL_EVENT_TYPES, PAYLOADS
from events.values import Timestamp, Version

DEAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
DealId = Annotated[str, Field(pattern=DEAL_ID_PATTERN, description="The deal (stream) id.")]


class EventInBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID | None = Field(default=None, description="Client-chosen idempotency key.")
    occurred_at: Timestamp | None = Field(default=None, description="Business time; default now.")
    expected_version: Version | None = None

    def payload_dict(self) -> dict[str, Any]:
        """The data as stored: JSON-safe, defaults filled, absent optionals left out."""
        return self.data.model_dump(mode="json", by_alias=True, exclude_none=True)


def _class_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace(".", "_").split("_")) + "In"


EVENT_MODELS: dict[str, type[EventInBase]] = {
    event_type: create_model(
        _class_name(event_type),
        __base__=EventInBase,
        type=(Literal[event_type], ...),
        data=(payload, ...),
    )
    for event_type, payload in PAYLOADS.items()
}

EventIn = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]
# What POST /v1/deals/{deal_id}/events accepts (and so what its OpenAPI body offers): the deal's own
# events; targets, reviews and pipelines have their own endpoints.
DealEventIn = Annotated[Union[tuple(m for t, m in EVENT_MODELS.items() if t in DEAL_EVENT_TYPES)],
                        Field(discriminator="type")]


# A batch item is an EventIn that also names its deal.
BATCH_MODELS: dict[str, type[EventInBase]] = {
    event_type: create_model(model.__name__.removesuffix("In") + "BatchItem", __base__=model,
                             deal_id=(DealId, ...))
    for event_type, model in EVENT_MODELS.items()
}
BatchEventIn = Annotated[Union[tuple(BATCH_MODELS.values())], Field(discriminator="type")]


event_adapter: TypeAdapter = TypeAdapter(EventIn)

__all__ = ["EventIn", "DealEventIn", "BatchEventIn", "EventInBase", "EVENT_MODELS", "event_adapter", "DealId",
           "payloads"]
