"""Response shapes of the read endpoints (reports, loop, audit, operations), for the OpenAPI
document frontends generate clients from. The routes return plain dicts; these models document
them (`responses=ok(Model)`), and tests validate real answers against them, so the document
cannot drift from what is served. Money is a decimal string, rates are numbers in [0, 1],
durations are days. No model declares `additionalProperties`: a generated client gets exactly the
fields listed (a free-form map, such as a custom field set, is typed as such)."""
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Money = str


class Out(BaseModel):
    """The base of every answer model (extra fields ignored, so none documented)."""


class Reported(Out):
    as_of_position: int = Field(description="The newest log position the figures reflect.")
    as_of: datetime | None = Field(None, description="The recorded moment asked about (as_of requests only).")


class CohortStage(Out):
    stage: str
    reached: int = Field(description="Deals whose furthest stage is at or past this one.")
    entered: int = Field(description="Deals that actually entered it.")
    skipped: int
    conversion: float | None = Field(description="reached of the next stage (won after the last) / reached.")
    target_conversion: float | None
    leakage: bool = Field(description="conversion below target_conversion.")


class FunnelCohortOut(Reported):
    mode: Literal["cohort"]
    pipeline: str
    from_: datetime | None = Field(None, alias="from")
    to: datetime | None = None
    created: int
    won: int
    lost: int
    win_rate: float | None
    stages: list[CohortStage]
    leakage_stages: list[str]


class SnapshotStage(Out):
    stage: str
    open: int
    open_amount: Money


class FunnelSnapshotOut(Reported):
    mode: Literal["snapshot"]
    pipeline: str
    at: datetime | None = None
    stages: list[SnapshotStage]


class CycleStats(Out):
    count: int
    mean_days: float | None
    p50_days: float | None
    p75_days: float | None
    p90_days: float | None


class CycleStage(CycleStats):
    stage: str


class CycleTimeOut(Reported):
    outcome: Literal["won", "lost"]
    pipeline: str
    from_: datetime | None = Field(None, alias="from")
    to: datetime | None = None
    overall: CycleStats
    stages: list[CycleStage]


class PerformanceRow(Out):
    owner_id: str | None = Field(None, description="The rep (scope=rep).")
    team_id: str | None
    revenue_won: Money | None
    deals_won: int
    deals_lost: int
    win_rate: float | None
    avg_deal_size: Money | None
    avg_cycle_days: float | None
    contacts: int
    quotes: int
    new_deals: int
    csat_avg: float | None
    open_deals: int | None
    sales_velocity: float | None


class PerformanceOut(Reported):
    period: str
    scope: Literal["rep", "team"]
    rows: list[PerformanceRow]


class ForecastStage(Out):
    stage: str
    open: int
    open_amount: Money
    probability: float
    historical_probability: float | None
    sample_size: int
    weighted: Money
    historical: Money


class ForecastAccuracy(Out):
    period: str
    taken_at: datetime
    as_of_position: int | None
    forecast: Money | None
    actual: Money | None
    error: float | None
    partial: bool
    partial_reason: str | None


class ForecastOut(Reported):
    period: str
    scope: Literal["rep", "team", "company"]
    scope_id: str | None
    won_to_date: Money
    weighted_pipeline: Money
    historical_forecast: Money
    expected_total_weighted: Money
    expected_total_historical: Money
    stages: list[ForecastStage]
    accuracy: list[ForecastAccuracy]


class TargetRow(Out):
    target_id: str
    scope: str
    scope_id: str | None
    period: str
    metric: str
    target: Money | None = Field(description="A decimal string.")
    actual: Money | None = Field(description="A decimal string.")
    attainment: float | None
    elapsed_fraction: float
    pace: Money | None = Field(description="What is due by now at an even pace; a decimal string.")
    status: Literal["on_track", "at_risk", "behind"] | None


class TargetsOut(Out):
    targets: list[TargetRow]
    as_of_position: int


class ActionRow(Out):
    action_id: str
    title: str
    owner_id: str | None
    due_date: date | None
    completed_at: datetime | None
    overdue: bool


class FeedbackRow(Out):
    deal_id: str
    occurred_at: datetime
    score: int
    comment: str | None
    source: str | None
    owner_id: str | None
    team_id: str | None


class ReviewRow(Out):
    review_id: str
    trigger: Literal["deviation", "stalled", "manual"]
    scope: str
    scope_id: str | None
    period: str | None
    metric: str | None
    expected: float | int | str | None
    actual: float | int | str | None
    status: Literal["open", "closed"]
    actions: list[ActionRow]
    overdue_actions: int
    feedback: list[FeedbackRow]
    csat_avg: float | None


class ReviewsOut(Out):
    reviews: list[ReviewRow]
    as_of_position: int


class PipelineStageOut(Out):
    stage: str
    probability: float
    stall_after_days: int | None
    target_conversion: float | None


class PipelineOut(Out):
    pipeline: str
    stages: list[PipelineStageOut] = Field(description="In pipeline order.")


class PipelinesOut(Out):
    pipelines: list[PipelineOut]


class LedgerDigestOut(Out):
    tree_size: int
    root_hash: str
    issued_at: str
    key_id: str
    signature: str = Field(description="`valid`, why it is not, or why it was not checked.")


class LedgerCheckOut(Out):
    ok: bool
    checked: int = Field(description="Events whose hash was compared with their Merkle leaf.")
    tree_size: int
    digest: LedgerDigestOut | None = Field(description="The latest recorded signed digest the leaves "
                                                       "were checked against (none recorded: null).")
    first_mismatch: dict | None = Field(description="The first leaf, event or digest that does not "
                                                     "match: leaf_index, position, event_id, deal_id, reason.")


class VerifyOut(Out):
    ok: bool
    events_checked: int
    streams_checked: int
    first_broken: dict | None = Field(description="The first event whose hash does not verify, if any.")
    problems: list
    ledger: LedgerCheckOut | None = Field(None, description="Events against the Merkle tree and the "
                                                            "latest signed digest (docs/audit.md).")


class LagOut(Out):
    name: str
    position: int
    events_behind: int
    seconds_behind: float


class ProjectionsOut(Out):
    relay: LagOut
    projections: list[LagOut]


class HealthOut(Out):
    status: Literal["ok", "ready", "unavailable"]


def ok(model: type[BaseModel], description: str = "Success") -> dict:
    """`responses=` entry documenting a 200 body (the route returns a dict)."""
    return {200: {"model": model, "description": description}}
