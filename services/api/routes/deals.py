"""Deal endpoints: post events (one or a batch), read a deal's state and its stream
(the list and search live in services.api.routes.deal_list)."""
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from domain.deal import DealState, fold
from domain.deal_codec import as_api
from domain.errors import DealNotFound
from domain.pipelines import known
from events import store
from events.schema import DEAL_ID_PATTERN, BatchEventIn, DealEventIn
from events.upcasting import upcast_envelope
from services.api.plumbing.batch_gate import one_at_a_time
from services.api.plumbing.bodies import BATCH_BODY_LIMIT, EVENT_BODY_LIMIT, limited_route
from services.api.plumbing.deal_out import DealOut
from services.api.plumbing.deps import AppenderDep, EngineDep, OriginDep, SettingsDep
from services.api.plumbing.errors import documented
from services.api.plumbing.models import AppendOut, BatchOut, EnvelopeOut, StreamOut
from services.api.plumbing.params import AsOf
from services.api.plumbing.read_models_out import ok
from services.appending import Command, Post, append_events, load_state

DealIdPath = Annotated[str, Path(pattern=DEAL_ID_PATTERN, description="The deal (stream) id.")]
WRITE_ERRORS = documented(404, 409, 413, 415, 422)
events_router = APIRouter(route_class=limited_route(EVENT_BODY_LIMIT), tags=["events"], responses=WRITE_ERRORS)
batch_router = APIRouter(route_class=one_at_a_time(limited_route(BATCH_BODY_LIMIT)), tags=["events"],
                         responses=WRITE_ERRORS)
read_router = APIRouter(tags=["deals"], responses=documented(422))

EXAMPLES = {
    "created": {"summary": "Create a deal", "value": {
        "type": "deal.created", "occurred_at": "2026-11-02T09:00:00Z",
        "data": {"title": "ACME rollout", "customer": {"id": "c-acme", "name": "ACME",
                 "segment": "enterprise", "region": "emea"}, "owner_id": "rep-1",
                 "team_id": "team-a", "expected_amount": "12000.00", "currency": "USD"}}},
    "moved": {"summary": "Move a stage", "value": {
        "type": "deal.stage_moved", "expected_version": 1,
        "data": {"from_stage": "lead", "to_stage": "contacted"}}},
    "signed": {"summary": "Sign", "value": {
        "type": "deal.signed", "data": {"amount": "11500.00", "currency": "USD"}}},
}


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: Annotated[list[BatchEventIn], Field(min_length=1, max_length=10_000)]


def _count(request: Request, results) -> None:
    for event_type, n in Counter(r.envelope.type for r in results if r.created).items():
        request.app.state.metrics.appended.labels(event_type).inc(n)


@events_router.post("/v1/deals/{deal_id}/events", status_code=201, response_model=AppendOut,
                    responses={200: {"model": AppendOut, "description": "Idempotent retry"}})
async def post_event(deal_id: DealIdPath, event: Annotated[DealEventIn, Body(openapi_examples=EXAMPLES)],
                     appender: AppenderDep, origin: OriginDep, response: Response, request: Request):
    """Committed together with the process's concurrent posts (group commit), answered alone."""
    result = await appender.append(Post(Command(deal_id, event, origin.causation_id), origin.context,
                                        origin.writer))
    _count(request, [result])
    if not result.created:
        response.status_code = 200
    return AppendOut.of(result.envelope)


def single_append_route() -> APIRoute:
    """The declared route of the single append (its body field and path serve the append lane)."""
    return next(r for r in events_router.routes if r.path == "/v1/deals/{deal_id}/events" and "POST" in r.methods)


@batch_router.post("/v1/events/batch", status_code=201, response_model=BatchOut,
                   responses={200: {"model": BatchOut, "description": "Idempotent retry of the whole batch"}})
def post_batch(batch: BatchIn, engine: EngineDep, settings: SettingsDep, origin: OriginDep, request: Request):
    commands = [Command(item.deal_id, item, origin.causation_id) for item in batch.events]
    results = append_events(engine, commands, origin.context, currency=settings.currency, batch=True,
                             writer=origin.writer)
    _count(request, results)
    # the bytes of the response model, without building and validating a model per result
    return Response(BatchOut.json_of([r.envelope for r in results]), media_type="application/json",
                    status_code=201 if any(r.created for r in results) else 200)


@read_router.get("/v1/deals/{deal_id}", responses={**documented(404), **ok(DealOut)})
def get_deal(deal_id: DealIdPath, engine: EngineDep, as_of: AsOf = None) -> dict[str, Any]:
    with engine.connect() as conn:
        if as_of is None:
            head = store.read_head(conn, deal_id)
            state = load_state(conn, deal_id, head) if head else None
        else:
            history = store.read_stream(conn, deal_id, recorded_until=as_of)
            state = fold(deal_id, [upcast_envelope(e) for e in history], known(store.pipeline_stage_lists(conn)))
    if state is None or not isinstance(state, DealState) or not state.exists:
        raise DealNotFound(f"deal {deal_id} does not exist" + (f" as of {as_of}" if as_of else ""),
                           deal_id=deal_id)
    return as_api(state)


@read_router.get("/v1/deals/{deal_id}/events", response_model=StreamOut, responses=documented(404),
                 response_model_exclude_unset=True)  # a null actor_key_id is left out, as in the hash
def get_stream(deal_id: DealIdPath, engine: EngineDep,
               after_version: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
               limit: Annotated[int, Query(ge=1, le=10_000)] = 1000):
    with engine.connect() as conn:
        envelopes = store.read_stream(conn, deal_id, after_version=after_version, limit=limit)
        if not envelopes and store.read_head(conn, deal_id) is None:
            raise DealNotFound(f"deal {deal_id} does not exist", deal_id=deal_id)
    return {"deal_id": deal_id, "events": [EnvelopeOut(**e.to_dict()) for e in envelopes]}
