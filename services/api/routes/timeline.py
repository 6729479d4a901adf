"""GET /v1/deals/{deal_id}/timeline: the deal's history as readable entries."""
from fastapi import APIRouter

from domain.errors import DealNotFound
from domain.pipelines import known
from events import store
from events.upcasting import upcast_envelope
from services.api.plumbing.deal_out import TimelineOut
from services.api.plumbing.deps import EngineDep
from services.api.plumbing.errors import documented
from services.api.plumbing.params import StreamKey
from services.api.plumbing.read_models_out import ok
from services.timeline import timeline

router = APIRouter(tags=["deals"], responses=documented(404, 422))


@router.get("/v1/deals/{deal_id}/timeline", responses=ok(TimelineOut))
def deal_timeline(deal_id: StreamKey, engine: EngineDep) -> dict:
    """Entries in business time (event, actor, recorded time, a readable summary; voided events
    marked with the void that took them back, a void naming what it voided) and the stage
    visits with their dwell, from the same fold as the read models."""
    with engine.connect() as conn:
        envelopes = [upcast_envelope(e) for e in store.read_stream(conn, deal_id)]
        if not envelopes:
            raise DealNotFound(f"deal {deal_id} does not exist", deal_id=deal_id)
        pipelines = known(store.pipeline_stage_lists(conn))
    return timeline(deal_id, envelopes, pipelines)
