"""The global log for auditors, and relay and projection lag (verification: services.api.routes.audit)."""
from typing import Annotated

from fastapi import APIRouter, Query

from events.log_reader import read_committed
from events.relay import relay_lag
from projections import sales_projection as sales
from projections.runtime import checkpoints
from services.api.plumbing.deps import EngineDep
from services.api.plumbing.errors import documented
from services.api.plumbing.models import EnvelopeOut, LogOut
from services.api.plumbing.read_models_out import ProjectionsOut, ok

router = APIRouter()


@router.get("/v1/events", response_model=LogOut, tags=["audit"], responses=documented(422),
            response_model_exclude_unset=True)  # a null actor_key_id is left out, as in the hash
def get_log(engine: EngineDep, after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
            limit: Annotated[int, Query(ge=1, le=10_000)] = 1000):
    """Events after `after` in commit order. `next_after` is the position to ask from next;
    an event committing later never appears before it."""
    page = read_committed(engine, after, limit, wait_seconds=2.0)
    return {"events": [EnvelopeOut(**e.to_dict()) for e in page.envelopes], "next_after": page.through}


@router.get("/v1/projections", tags=["operations"], responses=ok(ProjectionsOut))
def get_projections(engine: EngineDep):
    """Checkpoints and lag of the relay and of each projection. A projection's
    `events_behind` counts deal events newer than the newest one it applied."""
    with engine.connect() as conn:
        return {"relay": relay_lag(conn), "projections": [checkpoints.lag(conn, sales.NAME)]}
