"""The management loop over HTTP: targets, reviews, their actions. Each call appends an event."""
from typing import Annotated, Literal
from uuid import uuid4

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from events import payloads
from events.schema import DEAL_ID_PATTERN, EVENT_MODELS
from events.streams import Kind, stream_id
from events.values import Timestamp, Version
from projections import checkpoints, sales
from projections.reports import loop as loop_report
from services.api.plumbing.bodies import EVENT_BODY_LIMIT, limited_route
from services.api.plumbing.deps import EngineDep, Origin, OriginDep, SettingsDep
from services.api.plumbing.errors import documented
from services.api.plumbing.models import AppendOut
from services.api.plumbing.params import Filter, IdPath, PeriodFilter, StreamKey
from services.appending import Command, append_events
from services.api.plumbing.read_models_out import PipelinesOut, ReviewRow, ReviewsOut, TargetsOut, ok
from domain.errors import ReviewNotFound
from domain.target import target_id

router = APIRouter(tags=["loop"], route_class=limited_route(EVENT_BODY_LIMIT), responses=documented(422))
WRITE_ERRORS = documented(409, 413, 415)
REVIEW_WRITE_ERRORS = documented(404, 409, 413, 415)


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: payloads.Scope
    scope_id: payloads.Id = "company"
    period: payloads.Period
    metric: payloads.Metric
    value: payloads.NonNegativeAmount
    expected_version: Version | None = None
    occurred_at: Timestamp | None = None


class ReviewIn(payloads.ReviewOpened):
    review_id: Annotated[str, Field(pattern=DEAL_ID_PATTERN)] | None = None
    trigger: Literal["deviation", "stalled", "manual"] = "manual"


class ActionIn(payloads.ReviewActionAdded):
    action_id: payloads.Id | None = None


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: payloads.Text | None = None


def _append(engine, settings, origin: Origin, stream: str, kind: str, data: dict, **extra) -> AppendOut:
    event = EVENT_MODELS[kind].model_validate({"type": kind, "data": data, **extra})
    [result] = append_events(engine, [Command(stream, event, origin.causation_id)], origin.context,
                             currency=settings.currency)
    return AppendOut.of(result.envelope)


@router.post("/v1/targets", status_code=201, response_model=AppendOut, responses=WRITE_ERRORS)
def set_target(body: TargetIn, engine: EngineDep, settings: SettingsDep, origin: OriginDep):
    """Set (or supersede) the target for a scope, period and metric; older values stay in history."""
    data = body.model_dump(mode="json", exclude={"expected_version", "occurred_at"})
    stream = stream_id(Kind.TARGET, target_id(body.scope, body.scope_id, body.period, body.metric))
    extra = {k: v for k, v in body.model_dump(mode="json", include={"expected_version", "occurred_at"}).items()
             if v is not None}
    return _append(engine, settings, origin, stream, "target.set", data, **extra)


@router.get("/v1/targets", responses=ok(TargetsOut))
def get_targets(engine: EngineDep, period: PeriodFilter = None,
                scope: Literal["rep", "team", "company"] | None = None, scope_id: Filter = None):
    """Targets with actual, attainment, pace and status (on_track / at_risk / behind)."""
    with engine.connect() as conn:
        return {"targets": loop_report.targets(conn, period, scope, scope_id),
                "as_of_position": checkpoints.applied_through(conn, sales.NAME)}


@router.post("/v1/reviews", status_code=201, response_model=AppendOut, responses=WRITE_ERRORS)
def open_review(body: ReviewIn, engine: EngineDep, settings: SettingsDep, origin: OriginDep):
    review_id = body.review_id or uuid4().hex
    data = body.model_dump(mode="json", exclude={"review_id"}, exclude_none=True)
    return _append(engine, settings, origin, stream_id(Kind.REVIEW, review_id), "review.opened", data)


@router.post("/v1/reviews/{review_id}/actions", status_code=201, response_model=AppendOut,
             responses=REVIEW_WRITE_ERRORS)
def add_action(review_id: StreamKey, body: ActionIn, engine: EngineDep, settings: SettingsDep,
               origin: OriginDep):
    data = {**body.model_dump(mode="json", exclude_none=True), "action_id": body.action_id or uuid4().hex[:12]}
    return _append(engine, settings, origin, stream_id(Kind.REVIEW, review_id), "review.action_added", data)


@router.post("/v1/reviews/{review_id}/actions/{action_id}/complete", status_code=201, response_model=AppendOut,
             responses=REVIEW_WRITE_ERRORS)
def complete_action(review_id: StreamKey, action_id: IdPath,
                    body: CompleteIn | None = None, *, engine: EngineDep,
                    settings: SettingsDep, origin: OriginDep):
    outcome = body.outcome if body else None
    data = {"action_id": action_id, **({"outcome": outcome} if outcome else {})}
    return _append(engine, settings, origin, stream_id(Kind.REVIEW, review_id), "review.action_completed", data)


@router.post("/v1/reviews/{review_id}/close", status_code=201, response_model=AppendOut,
             responses=REVIEW_WRITE_ERRORS)
def close_review(review_id: StreamKey, body: payloads.ReviewClosed | None = None, *, engine: EngineDep,
                 settings: SettingsDep, origin: OriginDep):
    data = body.model_dump(mode="json", exclude_none=True) if body else {}
    return _append(engine, settings, origin, stream_id(Kind.REVIEW, review_id), "review.closed", data)


@router.put("/v1/pipelines/{pipeline}", status_code=201, response_model=AppendOut, responses=WRITE_ERRORS)
def define_pipeline(pipeline: StreamKey, body: payloads.PipelineDefined, engine: EngineDep,
                    settings: SettingsDep, origin: OriginDep):
    """Redefine a pipeline's per-stage probability, target conversion and stall threshold
    (`pipeline.defined`); the stage list itself stays as first defined."""
    return _append(engine, settings, origin, stream_id(Kind.PIPELINE, pipeline), "pipeline.defined",
                   body.model_dump(mode="json", exclude_none=True))


@router.get("/v1/pipelines", responses=ok(PipelinesOut))
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


@router.get("/v1/reviews", responses=ok(ReviewsOut))
def list_reviews(engine: EngineDep, status: Literal["open", "closed"] | None = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """What the next review meeting must cover: each review with the metric that triggered it,
    its actions (overdue flagged) and the customer feedback of the deals it concerns."""
    with engine.connect() as conn:
        return {"reviews": loop_report.reviews(conn, status, limit=limit),
                "as_of_position": checkpoints.applied_through(conn, sales.NAME)}


@router.get("/v1/reviews/{review_id}", responses={**documented(404), **ok(ReviewRow)})
def get_review(review_id: StreamKey, engine: EngineDep):
    with engine.connect() as conn:
        found = loop_report.reviews(conn, None, review_id=review_id, limit=1)
    if not found:
        raise ReviewNotFound(f"review {review_id} does not exist (or is not projected yet)", review_id=review_id)
    return found[0]
