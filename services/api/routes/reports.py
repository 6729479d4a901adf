"""Report endpoints over the read models. `from`/`to`/`at`/`period` are business time;
`as_of` is recorded time (the report as the system knew it then: the bitemporal read models as of then)."""
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import Engine

from domain.errors import InvalidQuery
from domain.pipelines import Pipeline, known
from events import store
from events.values import Id
from projections import sales_projection as sales
from projections.reports import as_of as asof
from projections.reports import cycle_time as cycle_report
from projections.reports import forecast as forecast_report
from projections.reports import funnel as funnel_report
from projections.reports import performance as performance_report
from projections.reports import relations
from projections.runtime import checkpoints
from services.api.plumbing.deps import EngineDep
from services.api.plumbing.errors import documented
from services.api.plumbing.params import AsOf, At, Filter, From, PeriodFilter, PeriodQuery, To
from services.api.plumbing.read_models_out import (
    CycleTimeOut,
    ForecastOut,
    FunnelCohortOut,
    FunnelSnapshotOut,
    PerformanceOut,
    ok,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=documented(422))

PipelineKey = Annotated[Id, Query()]


def _pipeline(engine: Engine, key: str) -> Pipeline:
    """The pipeline's ordered stages, as defined: from the one source the write side decides with
    (events.store.pipeline_stage_lists), so a pipeline is known here as soon as it is defined."""
    with engine.connect() as conn:
        pipelines = known(store.pipeline_stage_lists(conn))
    if key in pipelines:
        return pipelines[key]
    raise InvalidQuery(f"unknown pipeline '{key}'", pipeline=key)


def _run(engine: Engine, as_of, report):
    """Run `report(conn, source)` on the live read models, or on them as of a recorded moment."""
    if as_of is not None:
        with engine.connect() as conn:
            position = asof.position(conn, as_of)
            return {**report(conn, relations.AsOf(as_of)), "as_of": as_of.isoformat(), "as_of_position": position}
    with engine.connect() as conn:
        position = checkpoints.applied_through(conn, sales.NAME)
        return {**report(conn, "read_models"), "as_of_position": position}


def _check_range(start, end) -> None:
    if start is not None and end is not None and start >= end:
        raise InvalidQuery("`from` must be before `to`", **{"from": start.isoformat(), "to": end.isoformat()})


@router.get("/funnel", responses=ok(FunnelCohortOut | FunnelSnapshotOut, "mode=cohort or mode=snapshot"))
def funnel(engine: EngineDep, mode: Literal["cohort", "snapshot"] = "cohort",
           start: From = None, end: To = None, at: At = None,
           owner_id: Filter = None, team_id: Filter = None, segment: Filter = None,
           pipeline: PipelineKey = "default", as_of: AsOf = None):
    """Cohort: deals created in [from, to), how far they got. Snapshot: open deals per stage at `at`."""
    definition = _pipeline(engine, pipeline)
    _check_range(start, end)
    filters = {"owner_id": owner_id, "team_id": team_id, "segment": segment}
    if mode == "cohort":
        body = _run(engine, as_of, lambda conn, s: funnel_report.cohort(conn, definition, s, start, end, **filters))
        return {**body, "from": start, "to": end}
    body = _run(engine, as_of, lambda conn, s: funnel_report.snapshot(conn, definition, s, at, **filters))
    return {**body, "at": at}


@router.get("/cycle-time", responses=ok(CycleTimeOut))
def cycle_time(engine: EngineDep, outcome: Literal["won", "lost"] = "won",
               start: From = None, end: To = None,
               owner_id: Filter = None, team_id: Filter = None, segment: Filter = None,
               pipeline: PipelineKey = "default", as_of: AsOf = None):
    """Cycle time (creation to final close) and per-stage dwell of deals closed in [from, to)."""
    definition = _pipeline(engine, pipeline)
    _check_range(start, end)
    body = _run(engine, as_of, lambda conn, s: cycle_report.cycle_time(
        conn, definition, s, outcome, start, end, owner_id=owner_id, team_id=team_id, segment=segment))
    return {**body, "from": start, "to": end}


@router.get("/forecast", responses=ok(ForecastOut))
def forecast(engine: EngineDep, period: PeriodFilter = None,
             scope: Literal["rep", "team", "company"] = "company", scope_id: Filter = None,
             as_of: AsOf = None):
    """Weighted pipeline, historical forecast (P(won | stage), last 12 months, with sample
    sizes) and the accuracy of past periods' start-of-period forecasts. `scope=rep` or `team`
    without `scope_id` covers every rep (every team); accuracy is kept per named scope only.
    With `as_of`, the forecast as it stood then (its clock, default period and accuracy too)."""
    now = as_of or datetime.now(timezone.utc)
    period = period or f"{now.year}-{now.month:02d}"
    if scope == "company":
        scope_id = "company"
    return _run(engine, as_of,
                lambda conn, s: forecast_report.forecast(conn, period, scope, scope_id, now, schema=s))


@router.get("/performance", responses=ok(PerformanceOut))
def performance(engine: EngineDep, period: PeriodQuery, scope: Literal["rep", "team"] = "rep",
                as_of: AsOf = None):
    """Per rep or team for a month, quarter or year (UTC, business time)."""
    return _run(engine, as_of, lambda conn, s: performance_report.performance(conn, s, period, scope))
