"""One line per request: method, path, status, milliseconds, actor (the key's name), correlation
id — logger `dealtrail.access` (as JSON fields with DEALTRAIL_LOG_FORMAT=json) — and its duration
in the dealtrail_http_request_seconds histogram. A streamed response (the SSE log) is logged
when it ends."""
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.plumbing.correlation import correlation_id

log = logging.getLogger("dealtrail.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            record(scope, status[0], time.perf_counter() - started,
                   getattr(scope.get("route"), "path", None) or "unmatched")


def record(scope: Scope, status: int, seconds: float, route: str) -> None:
    """The request's line and its duration under its route's template."""
    _observe(scope, status, seconds, route)
    principal = scope.get("state", {}).get("principal")
    fields = {"method": scope["method"], "path": scope["path"], "status": status,
              "ms": round(seconds * 1000, 1),
              "actor": getattr(principal, "actor", None), "correlation_id": correlation_id(scope)}
    log.info("%(method)s %(path)s %(status)s %(ms)sms actor=%(actor)s correlation_id=%(correlation_id)s",
             fields, extra=fields)


def _observe(scope: Scope, status: int, seconds: float, route: str) -> None:
    """dealtrail_http_request_seconds, by the route's template (unmatched paths: one label)."""
    metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
    if metrics is None:
        return
    metrics.request_seconds(scope["method"], route, status).observe(seconds)
