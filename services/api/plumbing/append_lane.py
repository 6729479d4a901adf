"""The lean lane of `POST /v1/deals/{deal_id}/events`, the hottest route: one parse and one
validation of the body, no dependency solving, routing or response model, the answer sent as
pre-encoded JSON. FastAPI's machinery was about half of the API's CPU per post.

It serves only a post it is sure the route would accept: the path's deal id valid, no query
string, a cached or known key whose role may post, valid trace headers, a JSON body within the
limit that validates as an event. Anything else goes, with the body it read replayed, to the
declared route (`services.api.routes.deals.post_event`, which stays the OpenAPI contract), so every
refusal is the route's own answer. Once the append runs, its errors are answered by the app's
exception handlers, as the route's are; it logs and times the request as AccessLogMiddleware does."""
import re
import time

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.jsontext import loads_decimal
from services.api.plumbing import access_log
from services.api.plumbing.access import ACCESS, ADMIN
from services.api.plumbing.bodies import EVENT_BODY_LIMIT
from services.api.plumbing.correlation import HEADER, PRINTABLE, chosen, correlation_id
from services.api.routes.deals import events_router
from services.api.plumbing.deps import appender_of, context_of
from services.api.plumbing.models import AppendOut
from services.appending import Command, Post
from services.origins import ReservedSource
from services.ownership import WriterScope

ROUTE = "/v1/deals/{deal_id}/events"
_PATH = re.compile(r"/v1/deals/([A-Za-z0-9][A-Za-z0-9._-]{0,127})/events")  # DEAL_ID_PATTERN
_PRINTABLE = re.compile(PRINTABLE)
_TRACE = (b"x-correlation-id", b"x-causation-id", b"x-dealtrail-source")
_WANTED = frozenset((b"authorization", b"content-type", b"content-length", *_TRACE))
_JSON = "application/json"
_dump = AppendOut.__pydantic_serializer__.to_json
_BODY = next(r for r in events_router.routes if r.path == ROUTE and "POST" in r.methods).body_field


class Declined(Exception):
    """Not a post the lane serves: the declared route answers it."""


class AppendLane:
    """Pure ASGI middleware, outside the correlation and access-log middlewares."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string")
                or scope.get("root_path") or (match := _PATH.fullmatch(scope["path"])) is None):
            await self.app(scope, receive, send)
            return
        started, read = time.perf_counter(), []
        try:
            post = await self._accept(scope, receive, match.group(1), read)
        except Declined:
            await self.app(scope, _replay(read, receive), send)
            return
        await _answer(scope, receive, send, post, started)

    async def _accept(self, scope: Scope, receive: Receive, deal_id: str, read: list) -> Post:
        """The post, or Declined (`read` then holds what was read of the body, for the route)."""
        app = scope["app"]
        if app.dependency_overrides:
            raise Declined
        headers = _headers(scope)
        content_type = headers.get(b"content-type", "").partition(";")[0].strip().lower()
        if content_type != _JSON or not _declared_size_fits(headers.get(b"content-length")):
            raise Declined
        state = app.state
        principal = await _principal(scope, state, headers.get(b"authorization"))
        trace = [headers.get(name) for name in _TRACE]
        if any(value is not None and not _PRINTABLE.match(value) for value in trace):
            raise Declined
        event = _event(await _body(receive, read))
        kept = scope.setdefault("state", {})
        if "correlation_id" not in kept:  # what correlation_id(scope) would choose, headers read once
            kept["correlation_id"] = chosen(trace[0])
        try:
            context = context_of(principal, trace[2], kept["correlation_id"])
        except ReservedSource:
            raise Declined from None  # the route answers 422 itself
        writer = WriterScope(principal.owner_id) if principal.role == "writer" else None
        return Post(Command(deal_id, event, trace[1]), context, writer)


def _event(body: bytes):
    """The body as the route's own body field validates it (numbers as Decimal, never float)."""
    try:
        parsed = loads_decimal(body)
    except Exception:  # noqa: BLE001 - malformed in any way: the route says how
        raise Declined from None
    event, errors = _BODY.validate(parsed, {}, loc=("body",))
    if errors:
        raise Declined
    return event


def _headers(scope: Scope) -> dict[bytes, str]:
    """The headers the lane reads (latin-1, as Starlette decodes them); one of them twice: Declined."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            if name in found:
                raise Declined
            found[name] = value.decode("latin-1")
    return found


def _declared_size_fits(declared: str | None) -> bool:
    return declared is None or (declared.isdigit() and int(declared) <= EVENT_BODY_LIMIT)


async def _principal(scope: Scope, state, authorization: str | None):
    """The caller if its key is valid and its role may post; else Declined (the route answers
    401, 403 or 503 itself)."""
    authenticate = getattr(state.authenticate, "principal", None)
    if authenticate is None or authorization is None:
        raise Declined
    try:
        principal = await authenticate(authorization, state.engine)
    except Exception as exc:  # unknown key, database down: the route raises it again, unasked
        scope.setdefault("state", {})["principal_error"] = exc
        raise Declined from None
    if principal.role not in ACCESS.get(("POST", ROUTE), ADMIN):
        raise Declined
    scope.setdefault("state", {})["principal"] = principal  # as get_principal keeps it
    return principal


async def _body(receive: Receive, read: list) -> bytes:
    """The whole body, also left in `read` (with whether more is to come) for a replay."""
    chunks, size, more, left = [], 0, True, False
    while more and not left and size <= EVENT_BODY_LIMIT:
        message = await receive()
        left = message["type"] != "http.request"  # the client left
        chunks.append(b"" if left else message.get("body", b""))
        size += len(chunks[-1])
        more = left or message.get("more_body", False)
    read[:] = [chunks[0] if len(chunks) == 1 else b"".join(chunks), more]
    if more or not size or size > EVENT_BODY_LIMIT:
        raise Declined
    return read[0]


def _replay(read: list, receive: Receive) -> Receive:
    """`receive` as if nothing had been read: what was read first, then the rest."""
    if not read:
        return receive
    body, more = read
    pending = [{"type": "http.request", "body": body, "more_body": more}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()
    return replayed


async def _answer(scope: Scope, receive: Receive, send: Send, post: Post, started: float) -> None:
    state, status = scope["app"].state, [500]
    cid = correlation_id(scope)

    async def send_with_id(message: Message) -> None:  # what CorrelationMiddleware does
        if message["type"] == "http.response.start":
            status[0] = message["status"]
            MutableHeaders(scope=message)[HEADER] = cid
        await send(message)
    try:
        try:
            result = await appender_of(state).append(post)
        except Exception as exc:
            handler = _handler(scope["app"], exc)
            if handler is None:
                raise  # ServerErrorMiddleware answers 500, as for the route
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send_with_id)
            return
        if result.created:
            state.metrics.appended.labels(result.envelope.type).inc()
        body = _dump(AppendOut.of(result.envelope))
        status[0] = 201 if result.created else 200
        await send({"type": "http.response.start", "status": status[0], "headers": [
            (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json"),
            (b"x-correlation-id", cid.encode("latin-1"))]})
        await send({"type": "http.response.body", "body": body})
    finally:
        access_log.record(scope, status[0], time.perf_counter() - started, ROUTE)


def _handler(app, exc: Exception):
    """The app's handler for `exc` as ExceptionMiddleware finds it (`Exception`'s is the 500s')."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in app.exception_handlers:
            return app.exception_handlers[cls]
    return None
