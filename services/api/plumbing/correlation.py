"""Every request has a correlation id: the client's `X-Correlation-ID` when it is a valid one,
else a generated UUID. It is echoed on every response (errors and 500s included) and recorded
on the events the request appends, so a log line, an error report and an event can be tied."""
import re
from uuid import uuid4

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Correlation-ID"
PRINTABLE = r"^[\x20-\x7e]{1,200}$"
_VALID = re.compile(PRINTABLE)


def correlation_id(scope: Scope) -> str:
    """The request's correlation id, chosen once and kept in the request state."""
    state = scope.setdefault("state", {})
    if "correlation_id" not in state:
        state["correlation_id"] = chosen(Headers(scope=scope).get(HEADER))
    return state["correlation_id"]


def chosen(sent: str | None) -> str:
    """The id a request whose `X-Correlation-ID` header is `sent` goes by."""
    return sent if sent and _VALID.match(sent) else str(uuid4())


class CorrelationMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): adds the header without buffering the response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = correlation_id(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = value
            await send(message)
        await self.app(scope, receive, send_with_id)
