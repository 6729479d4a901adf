"""The fast path of `POST /v1/deals/{deal_id}/events`, the hottest route, built into the declared
route itself (its route class): one parse and one validation of the body, no dependency solving
and no response model, the answer sent as pre-encoded JSON. FastAPI's dependency and response
machinery was about half of the API's CPU per post.

It runs where the route runs, after routing and inside the app's middlewares and exception
handling, so correlation ids, the access log and error answers are the app's own, not copies
(one front door). It serves only a post it is sure the handler would accept: a valid deal id,
no query string, a cached or known key whose role may post (`access.allows`, as the guard asks),
valid trace headers, a JSON body within the limit that validates as the route's body field.
Anything else goes, with the body it read replayed, to the declared handler
(`services.api.routes.deals.post_event`, which stays the OpenAPI contract), so every refusal is
the handler's own answer; the append's own errors reach the app's exception handlers as the
handler's do."""
import re

from fastapi.routing import APIRoute
from starlette.types import Message, Receive, Scope, Send

from infra.jsontext import loads_decimal
from services.api.plumbing.access import allows
from services.api.plumbing.bodies import EVENT_BODY_LIMIT
from services.api.plumbing.correlation import PRINTABLE, correlation_id
from services.api.plumbing.deps import appender_of, context_of
from services.api.plumbing.models import AppendOut
from services.appending import Command, Post
from services.origins import ReservedSource
from services.ownership import WriterScope

_DEAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # DEAL_ID_PATTERN
_PRINTABLE = re.compile(PRINTABLE)
_TRACE = (b"x-correlation-id", b"x-causation-id", b"x-dealtrail-source")
_WANTED = frozenset((b"authorization", b"content-type", b"content-length", *_TRACE))
_JSON = "application/json"
_dump = AppendOut.__pydantic_serializer__.to_json


class Declined(Exception):
    """Not a post the fast path serves: the declared handler answers it."""


def fast_append(route_class: type[APIRoute]) -> type[APIRoute]:
    """`route_class` with the fast path in front of its handler (POST routes with a `deal_id`)."""

    class FastAppendRoute(route_class):
        async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
            deal_id = scope.get("path_params", {}).get("deal_id", "")
            if (scope["method"] != "POST" or scope.get("query_string") or scope.get("root_path")
                    or not _DEAL_ID.fullmatch(deal_id)):
                await super().handle(scope, receive, send)
                return
            read: list = []
            try:
                post = await _accept(self, scope, receive, deal_id, read)
            except Declined:
                await super().handle(scope, _replay(read, receive), send)
                return
            await _answer(scope, send, post)
    return FastAppendRoute


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


async def _answer(scope: Scope, send: Send, post: Post) -> None:
    """Append and answer as the handler would (201, or 200 for an idempotent retry). An error of
    the append propagates to the app's exception handlers, as the handler's would."""
    state = scope["app"].state
    result = await appender_of(state).append(post)
    if result.created:
        state.metrics.appended.labels(result.envelope.type).inc()
    body = _dump(AppendOut.of(result.envelope))
    await send({"type": "http.response.start", "status": 201 if result.created else 200, "headers": [
        (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
