"""GET /v1/events/stream: the log as server-sent events, in commit order, live.

Each event is sent as `id: <position>`, `event: <type>`, `data: <envelope JSON>` (the envelope of
GET /v1/events). A client that reconnects sends the last id it saw as `Last-Event-ID` (browsers'
EventSource do it themselves) and gets every later event exactly once, in order; `after=` starts
a new subscription at a position (0: the beginning). `deal_id=` and `type=` filter. The server
suggests reconnecting after 1 s (`retry:`), and sends a comment line every 15 s of quiet so that
proxies keep the connection open."""
import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidQuery
from events.log_reader import read_committed
from events.payloads import PAYLOADS
from events.schema import DEAL_ID_PATTERN
from services.api.deps import EngineDep
from services.api.errors import documented

router = APIRouter(tags=["audit"])
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
PAGE = 500
Position = Annotated[int, Query(ge=0, le=2**63 - 1, description="Start after this position (0: the beginning).")]


@router.get("/v1/events/stream", responses={**documented(422), 200: {"description": "Server-sent events: `id: <position>`, `event: <type>`, `data: <envelope JSON>`; `: keepalive` comments.", "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
            response_class=StreamingResponse, description=__doc__)
async def event_stream(request: Request, engine: EngineDep, after: Position = 0,
                       deal_id: Annotated[str | None, Query(pattern=DEAL_ID_PATTERN)] = None,
                       type: Annotated[str | None, Query(description="An event type, e.g. deal.signed.")] = None,
                       last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$",
                                                                   description="Resume after this position.")] = None):
    if type is not None and type not in PAYLOADS:
        raise InvalidQuery(f"unknown event type '{type}'", type=type)
    start = int(last_event_id) if last_event_id is not None else after
    return StreamingResponse(_events(request, engine, start, deal_id, type), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(request: Request, engine: Engine, after: int, deal_id: str | None,
                  kind: str | None) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"
    quiet_since = time.monotonic()
    while not await request.is_disconnected():
        page = await run_in_threadpool(read_committed, engine, after, PAGE, 1.0)
        for e in page.envelopes:
            if (deal_id is None or e.deal_id == deal_id) and (kind is None or e.type == kind):
                yield f"id: {e.position}\nevent: {e.type}\ndata: {e.to_json()}\n\n"
                quiet_since = time.monotonic()
        after = page.through
        if len(page.envelopes) < PAGE:
            if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                yield ": keepalive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(POLL_SECONDS)
