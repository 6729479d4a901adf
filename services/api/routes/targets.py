"""Targets over HTTP: set one (an event), read them with attainment, pace and status."""
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from domain.target import target_id
from events import payloads
from events.streams import Kind, stream_id
from events.values import Timestamp, Version
from projections import sales_projection as sales
from projections.reports import loop as loop_report
from projections.runtime import checkpoints
from services.api.plumbing.bodies import EVENT_BODY_LIMIT, limited_route
from services.api.plumbing.commands import append_one
from services.api.plumbing.deps import EngineDep, OriginDep, SettingsDep
from services.api.plumbing.errors import documented
from services.api.plumbing.models import AppendOut
from services.api.plumbing.params import Filter, PeriodFilter
from services.api.plumbing.read_models_out import TargetsOut, ok

router = APIRouter(tags=["loop"], route_class=limited_route(EVENT_BODY_LIMIT), responses=documented(422))
WRITE_ERRORS = documented(409, 413, 415)


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: payloads.Scope
    scope_id: payloads.Id = "company"
    period: payloads.Period
    metric: payloads.Metric
    value: payloads.NonNegativeAmount
    expected_version: Version | None = None
    occurred_at: Timestamp | None = None


@router.post("/v1/targets", status_code=201, response_model=AppendOut, responses=WRITE_ERRORS)
def set_target(body: TargetIn, engine: EngineDep, settings: SettingsDep, origin: OriginDep):
    """Set (or supersede) the target for a scope, period and metric; older values stay in history."""
    data = body.model_dump(mode="json", exclude={"expected_version", "occurred_at"})
    stream = stream_id(Kind.TARGET, target_id(body.scope, body.scope_id, body.period, body.metric))
    extra = {k: v for k, v in body.model_dump(mode="json", include={"expected_version", "occurred_at"}).items()
             if v is not None}
    return append_one(engine, settings, origin, stream, "target.set", data, **extra)


@router.get("/v1/targets", responses=ok(TargetsOut))
def get_targets(engine: EngineDep, period: PeriodFilter = None,
                scope: Literal["rep", "team", "company"] | None = None, scope_id: Filter = None):
    """Targets with actual, attainment, pace and status (on_track / at_risk / behind)."""
    with engine.connect() as conn:
        return {"targets": loop_report.targets(conn, period, scope, scope_id),
                "as_of_position": checkpoints.applied_through(conn, sales.NAME)}
