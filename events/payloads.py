"""Event payloads (`data`) of SPEC §2, strictly validated: unknown fields are rejected,
money is Decimal, currencies are ISO-4217 codes; the value types (events.values) bound every
date, period, number and text to what the code can hold."""
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FiniteFloat,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from events.values import (
    NO_NUL,
    Amount,
    Currency,
    Day,
    FixedPoint,
    Id,
    Metric,
    NonNegativeAmount,
    Number,
    Period,
    PlainDecimal,
    ReviewMetric,
    Scope,
    Text,
    float_range,
    stored_float,
)

__all__ = ["Amount", "Currency", "Day", "Id", "Metric", "NonNegativeAmount", "Number", "Period",
           "ReviewMetric", "Scope", "Text", "PAYLOADS", "DEAL_EVENT_TYPES"]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Customer(Payload):
    id: Id
    name: Text
    segment: Id | None = None
    region: Id | None = None


class DealCreated(Payload):
    title: Text
    customer: Customer
    owner_id: Id
    team_id: Id | None = None
    source_channel: Id | None = None
    expected_amount: NonNegativeAmount | None = None
    currency: Currency | None = None
    expected_close_date: Day | None = None
    pipeline: Id = "default"
    stage: Id = "lead"

    @model_validator(mode="after")
    def _amount_has_currency(self) -> "DealCreated":
        if self.expected_amount is not None and self.currency is None:
            raise ValueError("expected_amount needs its currency")
        return self


class ContactLogged(Payload):
    channel: Literal["call", "email", "meeting", "visit", "chat", "other"]
    direction: Literal["inbound", "outbound"] | None = None
    contact_person: Text | None = None
    summary: Text | None = None
    duration_minutes: Annotated[int, Field(ge=0, le=100_000, strict=True)] | None = None


class StageMoved(Payload):
    from_stage: Id
    to_stage: Id
    reason: Text | None = None


class LineItem(Payload):
    sku: Id
    qty: Amount
    unit_price: NonNegativeAmount
    discount: Annotated[Decimal, PlainDecimal, Field(ge=0, le=1, allow_inf_nan=False), FixedPoint] | None = None


class QuoteIssued(Payload):
    quote_id: Id
    amount: Amount
    currency: Currency
    valid_until: Day | None = None
    line_items: Annotated[list[LineItem], Field(max_length=1000)] | None = None


class DealSigned(Payload):
    amount: Amount
    currency: Currency
    contract_id: Id | None = None


class DealLost(Payload):
    reason: Literal["price", "competitor", "no_decision", "timing", "fit", "other"]
    competitor: Text | None = None
    notes: Text | None = None


class DealReopened(Payload):
    to_stage: Id
    reason: Text | None = None


class OwnerChanged(Payload):
    owner_id: Id
    team_id: Id | None = None


class FeedbackRecorded(Payload):
    score: Annotated[int, Field(ge=1, le=5, strict=True)]
    comment: Text | None = None
    from_: Literal["customer", "rep"] | None = Field(default=None, alias="from")


class CustomerUpdate(Payload):
    name: Text | None = None
    segment: Id | None = None
    region: Id | None = None


MAX_CUSTOM_FIELDS = 50
# A custom field's value; null removes the field. A number with a fraction or an exponent is
# kept as PostgreSQL's jsonb keeps it (events.values.stored_float), so that its hash survives.
FieldValue = Annotated[StrictBool | StrictInt | FiniteFloat
                       | Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)] | None,
                       BeforeValidator(float_range), AfterValidator(stored_float)]


class DealUpdated(Payload):
    """Descriptive fields of an open deal; each is optional but one must be given."""
    title: Text | None = None
    expected_amount: NonNegativeAmount | None = None
    currency: Currency | None = None
    expected_close_date: Day | None = None
    customer: CustomerUpdate | None = None
    fields: Annotated[dict[Id, FieldValue], Field(max_length=MAX_CUSTOM_FIELDS)] | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> "DealUpdated":
        if self.expected_amount is not None and self.currency is None:
            raise ValueError("expected_amount needs its currency")
        if self.customer is not None and not self.customer.model_fields_set:
            raise ValueError("customer must name at least one of name, segment, region")
        given = {"title", "expected_amount", "expected_close_date", "customer", "fields"} & self.model_fields_set
        if not given or (given == {"fields"} and not self.fields):
            raise ValueError("deal.updated needs at least one of title, expected_amount (with currency), "
                             "expected_close_date, customer, fields")
        return self


class EventVoided(Payload):
    event_id: UUID
    reason: Text


class TargetSet(Payload):
    scope: Scope
    scope_id: Id
    period: Period
    metric: Metric
    value: NonNegativeAmount


class ReviewOpened(Payload):
    trigger: Literal["deviation", "stalled", "manual"]
    scope: Scope
    scope_id: Id
    period: Period
    metric: ReviewMetric
    expected: Number
    actual: Number
    notes: Text | None = None


class ReviewActionAdded(Payload):
    action_id: Id
    title: Text
    owner_id: Id
    due_date: Day | None = None


class ReviewActionCompleted(Payload):
    action_id: Id
    outcome: Text | None = None


class ReviewClosed(Payload):
    summary: Text | None = None


Share = Annotated[Decimal, PlainDecimal, Field(ge=0, le=1, allow_inf_nan=False), FixedPoint]  # 0..1


class StageDefinition(Payload):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    probability: Share
    target_conversion: Share | None = None
    stall_after_days: Annotated[int, Field(ge=1, le=3650, strict=True)] | None = None


class PipelineDefined(Payload):
    stages: Annotated[list[StageDefinition], Field(min_length=1, max_length=30)]


PAYLOADS: dict[str, type[Payload]] = {
    "deal.created": DealCreated,
    "deal.contact_logged": ContactLogged,
    "deal.stage_moved": StageMoved,
    "deal.quote_issued": QuoteIssued,
    "deal.signed": DealSigned,
    "deal.lost": DealLost,
    "deal.reopened": DealReopened,
    "deal.owner_changed": OwnerChanged,
    "deal.feedback_recorded": FeedbackRecorded,
    "deal.updated": DealUpdated,
    "event.voided": EventVoided,
    "target.set": TargetSet,
    "review.opened": ReviewOpened,
    "review.action_added": ReviewActionAdded,
    "review.action_completed": ReviewActionCompleted,
    "review.closed": ReviewClosed,
    "pipeline.defined": PipelineDefined,
}
DEAL_EVENT_TYPES = frozenset(t for t in PAYLOADS if t.startswith("deal.")) | {"event.voided"}
