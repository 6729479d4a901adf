"""GET /v1/events/stream: the log as server-sent events, in commit order, live.

Each event is sent as `id: <position>`, `event: <type>`, `data: <envelope JSON>` (the envelope of
GET /v1/events). Without `after=` or `Last-Event-ID` a stream starts at the log's head: it sends
what commits after it opened (replaying the whole log to every subscriber once made 200 of them
stall the API). A client that reconnects sends the last id it saw as `Last-Event-ID` (browsers'
EventSource do it themselves) and gets every later event exactly once, in order; `after=` starts
at a position (0: the beginning), read in pages of 500 on the streams' own threads; streams at
the same position share one read of a page and one encoding of its events (see stream_hub). `deal_id=`
and `type=` filter. At most DEALTRAIL_MAX_STREAMS_PER_KEY streams per key are open at once (429
`too_many_streams` beyond; a slot is free again when its client disconnects). The server
suggests reconnecting after 1 s (`retry:`), and sends a comment line every 15 s of quiet so that
proxies keep the connection open."""
import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine

from domain.errors import InvalidQuery
from events.log_head import Opening, opening
from events.log_reader import read_committed
from events.payloads import PAYLOADS
from events.schema import DEAL_ID_PATTERN
from services.api.plumbing.deps import EngineDep, SettingsDep, get_principal
from services.api.plumbing.errors import documented
from services.api.plumbing.stream_hub import POLL_SECONDS, StreamHub, hub_of

router = APIRouter(tags=["audit"])
KEEPALIVE_SECONDS = 15.0
PAGE = 500
GAP_WAIT_SECONDS = 0.02  # how long one read waits for an earlier position's transaction (then: a poll later)
Position = Annotated[int | None, Query(ge=0, le=2**63 - 1,
                                       description="Start after this position (0: the beginning; none: the head).")]


@dataclass(frozen=True)
class Filter:
    deal_id: str | None
    kind: str | None
    opened: Opening

    def wants(self, e) -> bool:
        return ((self.deal_id is None or e.deal_id == self.deal_id) and (self.kind is None or e.type == self.kind)
                and self.opened.unseen(e.position))

    def text(self, page: "Page") -> str:
        """The page's SSE text for this stream (the whole page's text when nothing is filtered out)."""
        unfiltered = self.deal_id is None and self.kind is None
        if unfiltered and (not self.opened.seen or page.first > self.opened.seen[-1][1]):
            return page.text
        return "".join(text for e, text in page.events if self.wants(e))


@dataclass(frozen=True)
class Page:
    """One page of the log after a position, each event with its SSE text (encoded once for all streams)."""
    events: tuple[tuple[object, str], ...]
    text: str  # every event's text
    through: int  # the position read through
    full: bool

    @property
    def first(self) -> int:
        return self.events[0][0].position if self.events else self.through + 1


@router.get("/v1/events/stream",
            responses={**documented(422, 429),
                       200: {"description": "Server-sent events: `id: <position>`, `event: <type>`, "
                                            "`data: <envelope JSON>`; `: keepalive` comments.",
                             "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
            response_class=StreamingResponse, description=__doc__)
async def event_stream(request: Request, engine: EngineDep, settings: SettingsDep, after: Position = None,
                       deal_id: Annotated[str | None, Query(pattern=DEAL_ID_PATTERN)] = None,
                       type: Annotated[str | None, Query(description="An event type, e.g. deal.signed.")] = None,
                       last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$",
                                                                   description="Resume after this position.")] = None):
    if type is not None and type not in PAYLOADS:
        raise InvalidQuery(f"unknown event type '{type}'", type=type)
    hub = hub_of(request.app.state, engine, settings.max_streams_per_key)
    principal = await get_principal(request)
    key = principal.key_id or principal.actor
    hub.take_slot(key)
    try:
        start = int(last_event_id) if last_event_id is not None else after
        opened = Opening(start) if start is not None else await hub.run(opening, engine)
    except BaseException:
        hub.release(key)
        raise
    return SlotResponse(_events(hub, engine, Filter(deal_id, type, opened)), lambda: hub.release(key),
                        media_type="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


class SlotResponse(StreamingResponse):
    """Gives the stream's slot back however the response ends (a client that disconnects
    cancels it: a `finally` in the generator would wait for its garbage collection)."""
    def __init__(self, content, release, **kwargs):
        super().__init__(content, **kwargs)
        self.release = release

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


async def _events(hub: StreamHub, engine: Engine, wanted: Filter) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"
    after, quiet = wanted.opened.after, 0.0
    while True:
        head = hub.position
        page = await hub.shared(after, head, _fresh, _read_page, engine, after)
        text, after, full = wanted.text(page), page.through, page.full
        if text:
            yield text
            quiet = 0.0
        if full:
            await asyncio.sleep(0)  # catching up: page after page, others get their turn between
        elif after < head:  # an earlier position's transaction is still in flight
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS
        else:
            waited = asyncio.get_running_loop().time()
            await hub.wait_past(after, KEEPALIVE_SECONDS - quiet)
            quiet += asyncio.get_running_loop().time() - waited
        if quiet >= KEEPALIVE_SECONDS:
            yield ": keepalive\n\n"
            quiet = 0.0


def _read_page(engine: Engine, after: int) -> Page:
    """One page of the log after `after`, its SSE text built here (off the event loop)."""
    page = read_committed(engine, after, PAGE, GAP_WAIT_SECONDS)
    events = tuple((e, f"id: {e.position}\nevent: {e.type}\ndata: {e.to_json()}\n\n") for e in page.envelopes)
    return Page(events, "".join(text for _, text in events), page.through, len(events) == PAGE)


def _fresh(page: Page, head: int) -> bool:
    """A page read earlier still serves a stream that saw the head at `head`: it is full, or it
    reached that head (a page that stopped short, at a transaction in flight, is read again)."""
    return page.full or page.through >= head
