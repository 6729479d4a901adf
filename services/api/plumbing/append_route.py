"""The fast path of `POST /v1/deals/{deal_id}/events`, the hottest route: one parse and one
validation of the body, no routing, dependency solving or response model, the answer sent as
pre-encoded JSON. FastAPI's machinery was about half of the API's CPU per post.

One front door, two speeds: `AppendLane` (the outermost middleware) serves only a post it is sure
the declared route would accept: a valid deal id, no query string, a cached or known key whose
role may post (`access.allows`, as the guard asks), valid trace headers, a JSON body within the
limit that validates as the route's own body field. Anything else goes, with the body it read
replayed, to the app and so to the declared route (`services.api.routes.deals.post_event`, which
stays the OpenAPI contract), so every refusal is the route's own answer. What the lane serves it
answers through the app's own plumbing, not copies of it: the correlation and access-log
middlewares and the app's exception handlers (`_served`). (Running it as the route's class, after
routing and the middleware stack, cost ~40% more CPU per post: measured, see the commit.)"""
import re

from fastapi.routing import APIRoute
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.jsontext import loads_decimal
from services.api.plumbing.access import allows
from services.api.plumbing.access_log import AccessLogMiddleware
from services.api.plumbing.bodies import EVENT_BODY_LIMIT
from services.api.plumbing.correlation import PRINTABLE, CorrelationMiddleware, correlation_id
from services.api.plumbing.deps import appender_of, context_of
from services.api.plumbing.models import AppendOut
from services.appending import Command, Post
from services.origins import ReservedSource
from services.ownership import WriterScope

_PATH = re.compile(r"/v1/deals/([A-Za-z0-9][A-Za-z0-9._-]{0,127})/events")  # DEAL_ID_PATTERN
_PRINTABLE = re.compile(PRINTABLE)
_TRACE = (b"x-correlation-id", b"x-causation-id", b"x-dealtrail-source")
_WANTED = frozenset((b"authorization", b"content-type", b"content-length", *_TRACE))
_JSON = "application/json"
_dump = AppendOut.__pydantic_serializer__.to_json


class Declined(Exception):
    """Not a post the lane serves: the declared route answers it."""


class AppendLane:
    """Pure ASGI middleware, added last (outermost but for CORS and the server-error handler)."""

    def __init__(self, app: ASGIApp, route: APIRoute):
        self.app, self.route, self._answering = app, route, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string")
                or scope.get("root_path") or (match := _PATH.fullmatch(scope["path"])) is None):
            await self.app(scope, receive, send)
            return
        read: list = []
        try:
            post = await _accept(self.route, scope, receive, match.group(1), read)
        except Declined:
            await self.app(scope, _replay(read, receive), send)
            return
        scope["route"] = self.route  # as routing would set it: the access log's label
        scope.setdefault("state", {})["append_post"] = post
        await self._served(scope["app"])(scope, receive, send)

    def _served(self, app) -> ASGIApp:
        """`_answer` inside the app's correlation and access-log middlewares and exception
        handlers (its 500 handler is the server-error middleware's, outside: as for any route)."""
        if self._answering is None:
            handlers = {k: v for k, v in app.exception_handlers.items() if k not in (500, Exception)}
            self._answering = CorrelationMiddleware(AccessLogMiddleware(ExceptionMiddleware(_answer, handlers)))
        return self._answering


async def _accept(route: APIRoute, scope: Scope, receive: Receive, deal_id: str, read: list) -> Post:
    """The post, or Declined (`read` then holds what was read of the body, for the handler)."""
    app = scope["app"]
    if app.dependency_overrides:
        raise Declined
    headers = _headers(scope)
    content_type = headers.get(b"content-type", "").partition(";")[0].strip().lower()
    if content_type != _JSON or not _declared_size_fits(headers.get(b"content-length")):
        raise Declined
    principal = await _principal(scope, route, app.state, headers.get(b"authorization"))
    trace = [headers.get(name) for name in _TRACE]
    if any(value is not None and not _PRINTABLE.match(value) for value in trace):
        raise Declined
    event = _event(route, await _body(receive, read))
    try:
        context = context_of(principal, trace[2], correlation_id(scope))
    except ReservedSource:
        raise Declined from None  # the handler answers 422 itself
    writer = WriterScope(principal.owner_id) if principal.role == "writer" else None
    return Post(Command(deal_id, event, trace[1]), context, writer)


def _event(route: APIRoute, body: bytes):
    """The body as the route's own body field validates it (numbers as Decimal, never float)."""
    try:
        parsed = loads_decimal(body)
    except Exception:  # noqa: BLE001 - malformed in any way: the handler says how
        raise Declined from None
    event, errors = route.body_field.validate(parsed, {}, loc=("body",))
    if errors:
        raise Declined
    return event


def _headers(scope: Scope) -> dict[bytes, str]:
    """The headers the fast path reads (latin-1, as Starlette decodes them); one of them twice: Declined."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            if name in found:
                raise Declined
            found[name] = value.decode("latin-1")
    return found


def _declared_size_fits(declared: str | None) -> bool:
    return declared is None or (declared.isdigit() and int(declared) <= EVENT_BODY_LIMIT)


async def _principal(scope: Scope, route: APIRoute, state, authorization: str | None):
    """The caller if its key is valid and its role may post; else Declined (the handler answers
    401, 403 or 503 itself)."""
    authenticate = getattr(state.authenticate, "principal", None)
    if authenticate is None or authorization is None:
        raise Declined
    try:
        principal = await authenticate(authorization, state.engine)
    except Exception as exc:  # unknown key, database down: the handler raises it again, unasked
        scope.setdefault("state", {})["principal_error"] = exc
        raise Declined from None
    if not allows(principal.role, "POST", route.path):
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


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    """Append and answer as the handler would (201, or 200 for an idempotent retry). An error of
    the append propagates to the app's exception handlers, as the handler's would."""
    state, post = scope["app"].state, scope["state"].pop("append_post")
    result = await appender_of(state).append(post)
    if result.created:
        state.metrics.appended.labels(result.envelope.type).inc()
    body = _dump(AppendOut.of(result.envelope))
    await send({"type": "http.response.start", "status": 201 if result.created else 200, "headers": [
        (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
