"""Pipelines over HTTP: redefine one's per-stage settings (an event), list the definitions in force."""
from fastapi import APIRouter

from events import payloads
from events.streams import Kind, stream_id
from projections.reports import pipelines as pipelines_report
from services.api.plumbing.bodies import EVENT_BODY_LIMIT, limited_route
from services.api.plumbing.commands import append_one
from services.api.plumbing.deps import EngineDep, OriginDep, SettingsDep
from services.api.plumbing.errors import documented
from services.api.plumbing.models import AppendOut
from services.api.plumbing.params import StreamKey
from services.api.plumbing.read_models_out import PipelinesOut, ok

router = APIRouter(tags=["loop"], route_class=limited_route(EVENT_BODY_LIMIT), responses=documented(422))
WRITE_ERRORS = documented(409, 413, 415)


@router.put("/v1/pipelines/{pipeline}", status_code=201, response_model=AppendOut, responses=WRITE_ERRORS)
def define_pipeline(pipeline: StreamKey, body: payloads.PipelineDefined, engine: EngineDep,
                    settings: SettingsDep, origin: OriginDep):
    """Redefine a pipeline's per-stage probability, target conversion and stall threshold
    (`pipeline.defined`); the stage list itself stays as first defined."""
    return append_one(engine, settings, origin, stream_id(Kind.PIPELINE, pipeline), "pipeline.defined",
                      body.model_dump(mode="json", exclude_none=True))


@router.get("/v1/pipelines", responses=ok(PipelinesOut))
def list_pipelines(engine: EngineDep):
    """The definitions in force."""
    with engine.connect() as conn:
        return {"pipelines": pipelines_report.definitions(conn)}
