"""Reviews over HTTP: open one, add and complete its actions, close it (each an event); read them
with their actions and the feedback of the deals they concern."""
from typing import Annotated, Literal
from uuid import uuid4

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from domain.errors import ReviewNotFound
from events import payloads
from events.schema import DEAL_ID_PATTERN
from events.streams import Kind, stream_id
from projections import sales_projection as sales
from projections.reports import loop as loop_report
from projections.runtime import checkpoints
from services.api.plumbing.bodies import EVENT_BODY_LIMIT, limited_route
from services.api.plumbing.commands import append_one
from services.api.plumbing.deps import EngineDep, OriginDep, SettingsDep
from services.api.plumbing.errors import documented
from services.api.plumbing.models import AppendOut
from services.api.plumbing.params import IdPath, StreamKey
from services.api.plumbing.read_models_out import ReviewRow, ReviewsOut, ok

router = APIRouter(tags=["loop"], route_class=limited_route(EVENT_BODY_LIMIT), responses=documented(422))
WRITE_ERRORS = documented(409, 413, 415)
REVIEW_WRITE_ERRORS = documented(404, 409, 413, 415)


class ReviewIn(payloads.ReviewOpened):
    review_id: Annotated[str, Field(pattern=DEAL_ID_PATTERN)] | None = None
    trigger: Literal["deviation", "stalled", "manual"] = "manual"


class ActionIn(payloads.ReviewActionAdded):
    action_id: payloads.Id | None = None


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: payloads.Text | None = None


@router.post("/v1/reviews", status_code=201, response_model=AppendOut, responses=WRITE_ERRORS)
def open_review(body: ReviewIn, engine: EngineDep, settings: SettingsDep, origin: OriginDep):
    review_id = body.review_id or uuid4().hex
    data = body.model_dump(mode="json", exclude={"review_id"}, exclude_none=True)
    return append_one(engine, settings, origin, stream_id(Kind.REVIEW, review_id), "review.opened", data)


@router.post("/v1/reviews/{review_id}/actions", status_code=201, response_model=AppendOut,
             responses=REVIEW_WRITE_ERRORS)
def add_action(review_id: StreamKey, body: ActionIn, engine: EngineDep, settings: SettingsDep,
               origin: OriginDep):
    data = {**body.model_dump(mode="json", exclude_none=True), "action_id": body.action_id or uuid4().hex[:12]}
    return append_one(engine, settings, origin, stream_id(Kind.REVIEW, review_id), "review.action_added", data)


@router.post("/v1/reviews/{review_id}/actions/{action_id}/complete", status_code=201, response_model=AppendOut,
             responses=REVIEW_WRITE_ERRORS)
def complete_action(review_id: StreamKey, action_id: IdPath,
                    body: CompleteIn | None = None, *, engine: EngineDep,
                    settings: SettingsDep, origin: OriginDep):
    outcome = body.outcome if body else None
    data = {"action_id": action_id, **({"outcome": outcome} if outcome else {})}
    return append_one(engine, settings, origin, stream_id(Kind.REVIEW, review_id), "review.action_completed", data)


@router.post("/v1/reviews/{review_id}/close", status_code=201, response_model=AppendOut,
             responses=REVIEW_WRITE_ERRORS)
def close_review(review_id: StreamKey, body: payloads.ReviewClosed | None = None, *, engine: EngineDep,
                 settings: SettingsDep, origin: OriginDep):
    data = body.model_dump(mode="json", exclude_none=True) if body else {}
    return append_one(engine, settings, origin, stream_id(Kind.REVIEW, review_id), "review.closed", data)


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
