"""The management loop over HTTP: targets, reviews, their actions. Each call appends an event."""
from typing import Annotated, Literal
from uuid import uuid4

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events import payloads, store
from events.schema import DEAL_ID_PATTERN, EVENT_MODELS
from projections import checkpoints, sales
from projections.reports import loop as loop_report
from services.api.deps import EngineDep, PrincipalDep, SettingsDep
from services.api.models import AppendOut
from services.appending import Command, append_events
from services.domain.errors import ReviewNotFound
from services.domain.target import target_id

router = APIRouter(tags=["loop"])
IdPath = Annotated[str, Path(pattern=DEAL_ID_PATTERN)]


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: payloads.Scope
    scope_id: payloads.Id = "company"
    period: payloads.Period
    metric: payloads.Metric
    value: payloads.NonNegativeAmount
    expected_version: Annotated[int, Field(ge=0)] | None = None
    occurred_at: AwareDatetime | None = None


class ReviewIn(payloads.ReviewOpened):
    review_id: Annotated[str, Field(pattern=DEAL_ID_PATTERN)] | None = None
    trigger: Literal["deviation", "stalled", "manual"] = "manual"


class ActionIn(payloads.ReviewActionAdded):
    action_id: payloads.Id | None = None


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: payloads.Text | None = None


def _append(engine, settings, principal, stream: str, kind: str, data: dict, **extra) -> AppendOut:
    event = EVENT_MODELS[kind].model_validate({"type": kind, "data": data, **extra})
    ctx = store.Context(actor=principal.actor, source=principal.source, correlation_id=str(uuid4()))
    [result] = append_events(engine, [Command(stream, event)], ctx, currency=settings.currency)
    return AppendOut.of(result.envelope)


@router.post("/v1/targets", status_code=201, response_model=AppendOut)
def set_target(body: TargetIn, engine: EngineDep, settings: SettingsDep, principal: PrincipalDep):
    """Set (or supersede) the target for a scope, period and metric; older values stay in history."""
    data = body.model_dump(mode="json", exclude={"expected_version", "occurred_at"})
    stream = "target:" + target_id(body.scope, body.scope_id, body.period, body.metric)
    extra = {k: v for k, v in body.model_dump(mode="json", include={"expected_version", "occurred_at"}).items()
             if v is not None}
    return _append(engine, settings, principal, stream, "target.set", data, **extra)


@router.get("/v1/targets")
def get_targets(engine: EngineDep, period: Annotated[str | None, Query(max_length=20)] = None,
                scope: Literal["rep", "team", "company"] | None = None,
                scope_id: Annotated[str | None, Query(max_length=200)] = None):
    """Targets with actual, attainment, pace and status (on_track / at_risk / behind)."""
    with engine.connect() as conn:
        return {"targets": loop_report.targets(conn, period, scope, scope_id),
                "as_of_position": checkpoints.applied_through(conn, sales.NAME)}


@router.post("/v1/reviews", status_code=201, response_model=AppendOut)
def open_review(body: ReviewIn, engine: EngineDep, settings: SettingsDep, principal: PrincipalDep):
    review_id = body.review_id or uuid4().hex
    data = body.model_dump(mode="json", exclude={"review_id"}, exclude_none=True)
    return _append(engine, settings, principal, f"review:{review_id}", "review.opened", data)


@router.post("/v1/reviews/{review_id}/actions", status_code=201, response_model=AppendOut)
def add_action(review_id: IdPath, body: ActionIn, engine: EngineDep, settings: SettingsDep,
               principal: PrincipalDep):
    data = {**body.model_dump(mode="json", exclude_none=True), "action_id": body.action_id or uuid4().hex[:12]}
    return _append(engine, settings, principal, f"review:{review_id}", "review.action_added", data)


@router.post("/v1/reviews/{review_id}/actions/{action_id}/complete", status_code=201, response_model=AppendOut)
def complete_action(review_id: IdPath, action_id: Annotated[str, Path(max_length=200)],
                    body: CompleteIn | None = None, *, engine: EngineDep,
                    settings: SettingsDep, principal: PrincipalDep):
    outcome = body.outcome if body else None
    data = {"action_id": action_id, **({"outcome": outcome} if outcome else {})}
    return _append(engine, settings, principal, f"review:{review_id}", "review.action_completed", data)


@router.post("/v1/reviews/{review_id}/close", status_code=201, response_model=AppendOut)
def close_review(review_id: IdPath, body: payloads.ReviewClosed | None = None, *, engine: EngineDep,
                 settings: SettingsDep, principal: PrincipalDep):
    data = body.model_dump(mode="json", exclude_none=True) if body else {}
    return _append(engine, settings, principal, f"review:{review_id}", "review.closed", data)


@router.put("/v1/pipelines/{pipeline}", status_code=201, response_model=AppendOut)
def define_pipeline(pipeline: IdPath, body: payloads.PipelineDefined, engine: EngineDep,
                    settings: SettingsDep, principal: PrincipalDep):
    """Redefine a pipeline's per-stage probability, target conversion and stall threshold
    (`pipeline.defined`); the stage list itself stays as first defined."""
    return _append(engine, settings, principal, f"pipeline:{pipeline}", "pipeline.defined",
                   body.model_dump(mode="json", exclude_none=True))


@router.get("/v1/pipelines")
def list_pipelines(engine: EngineDep):
    """The definitions in force."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM read_models.pipeline_stage ORDER BY pipeline, stage_index")
        pipelines: dict[str, list] = {}
        for row in rows.mappings():
            pipelines.setdefault(row["pipeline"], []).append(
                {"stage": row["stage"], "probability": float(row["probability"]),
                 "stall_after_days": row["stall_after_days"],
                 "target_conversion": None if row["target_conversion"] is None else float(row["target_conversion"])})
    return {"pipelines": [{"pipeline": k, "stages": v} for k, v in pipelines.items()]}


@router.get("/v1/reviews")
def list_reviews(engine: EngineDep, status: Literal["open", "closed"] | None = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """What the next review meeting must cover: each review with the metric that triggered it,
    its actions (overdue flagged) and the customer feedback of the deals it concerns."""
    with engine.connect() as conn:
        return {"reviews": loop_report.reviews(conn, status, limit=limit),
                "as_of_position": checkpoints.applied_through(conn, sales.NAME)}


@router.get("/v1/reviews/{review_id}")
def get_review(review_id: IdPath, engine: EngineDep):
    with engine.connect() as conn:
        found = loop_report.reviews(conn, None, review_id=review_id, limit=1)
    if not found:
        raise ReviewNotFound(f"review {review_id} does not exist (or is not projected yet)", review_id=review_id)
    return found[0]
