"""Response shapes of a deal's own reads (GET /v1/deals/{deal_id} and its timeline), for the
OpenAPI document. The routes return plain dicts; these models document them and a test validates
real answers against the documented schema. Money is a decimal string."""
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["open", "won", "lost"]
Money = str


class CustomerOut(BaseModel):
    id: str | None
    name: str | None
    segment: str | None
    region: str | None


class DealOut(BaseModel):
    """A deal's state as the write side folds it (optionally as of a recorded moment)."""
    deal_id: str
    version: int
    title: str | None
    customer_id: str | None
    customer_name: str | None
    segment: str | None
    region: str | None
    owner_id: str | None
    team_id: str | None
    created_owner_id: str | None
    created_team_id: str | None
    source_channel: str | None
    pipeline: str
    stages: list[str] = Field(description="The pipeline's open stages when the deal was created, in order.")
    stage: str | None
    status: Status | None
    currency: str | None
    expected_amount: Money | None
    latest_quote_amount: Money | None
    signed_amount: Money | None
    current_amount: Money | None = Field(description="Signed, else the latest quote, else expected.")
    expected_close_date: date | None
    fields: dict[str, Any] = Field(description="Custom fields set by deal.updated.")
    created_at: datetime | None
    stage_entered_at: datetime | None
    closed_at: datetime | None
    lost_reason: str | None
    close_owner_id: str | None
    close_team_id: str | None
    contacts_count: int
    last_contact_at: datetime | None
    last_quote_at: datetime | None
    last_activity_at: datetime | None
    feedback_count: int
    furthest_stage_index: int
    entered_stages: list[str]
    last_transition: dict[str, Any] | None = Field(description="from_stage, to_stage, kind, occurred_at.")
    customer: CustomerOut


class VoidedOut(BaseModel):
    event_id: str
    type: str
    occurred_at: str
    summary: str


class TimelineEntry(BaseModel):
    event_id: str
    type: str
    stream_version: int
    position: int
    occurred_at: str
    recorded_at: str
    actor: str
    source: str
    summary: str
    voided: bool
    voided_by: str | None = Field(description="The event.voided that took this one back.")
    data: dict[str, Any]
    voids: VoidedOut | None = Field(None, description="On an event.voided only: what it voided.")


class StageVisit(BaseModel):
    stage: str
    visit: int
    entered_at: str
    exited_at: str | None
    dwell_days: float | None
    exit_to: str | None
    entered_by: str | None
    owner_id: str | None
    team_id: str | None


class TimelineOut(BaseModel):
    deal_id: str
    version: int
    stage: str | None
    status: Status | None
    entries: list[TimelineEntry] = Field(description="In business time.")
    stage_visits: list[StageVisit]
