"""Every error is JSON `{"error": {"code", "message", "details"}}`; mapped here, once.
Unexpected exceptions answer 500 `internal_error` with the request's correlation id and no
internals (the traceback goes to the log, under the same id)."""
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match

from domain.errors import DomainError
from services.api.plumbing.correlation import HEADER, correlation_id
from services.api.plumbing.models import ErrorOut

log = logging.getLogger("dealtrail.api")
CLIENT_GONE = 499  # the client closed the connection before the request was read

# Domain errors know codes, not HTTP: the status of each code, here and only here.
DOMAIN_STATUS = {
    **dict.fromkeys(("validation_error", "unknown_stage", "unsupported_currency", "occurred_at_in_future",
                     "invalid_query", "reserved_source"), 422),
    **dict.fromkeys(("deal_not_found", "event_not_found", "review_not_found", "action_not_found",
                     "key_not_found"), 404),
    **dict.fromkeys(("deal_exists", "stage_conflict", "deal_closed", "deal_not_closed", "version_conflict",
                     "idempotency_conflict", "before_creation", "out_of_order", "void_conflict",
                     "review_exists", "review_closed", "action_conflict", "pipeline_conflict",
                     "key_name_taken", "last_admin_key"), 409),
    "forbidden": 403,
    "too_many_streams": 429,
    "payload_too_large": 413,
    "unavailable": 503,
}
_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_DESCRIPTIONS = {401: "No, unknown or revoked API key (`unauthenticated`)",
                 403: "The key's role may not do this (`forbidden`)", 404: "Not found",
                 405: "Method not allowed (see the Allow header)",
                 409: "Conflict with the current state", 413: "Request body too large",
                 415: "Request body is not JSON", 422: "Invalid input; nothing was written",
                 429: "Too many at once for this key (`too_many_streams`); retry later",
                 500: "Unexpected error (`internal_error`, with a correlation id)"}


_EXAMPLES = {
    401: ("unauthenticated", "missing or invalid API key (Authorization: Bearer <key>)", {}),
    403: ("forbidden", "role writer may not GET /v1/reports/funnel", {}),
    404: ("deal_not_found", "deal acme-1 does not exist", {"deal_id": "acme-1"}),
    405: ("method_not_allowed", "method not allowed", {}),
    409: ("stage_conflict", "deal acme-1 is in stage contacted, not lead", {"current_stage": "contacted"}),
    413: ("payload_too_large", "request body exceeds 262144 bytes", {"limit": 262144}),
    415: ("unsupported_media_type", "request body must be JSON", {}),
    422: ("validation_error", "invalid request",
          {"errors": [{"loc": ["data", "amount"], "msg": "Input should be greater than 0", "type": "greater_than"}]}),
    429: ("too_many_streams", "this key has 8 event streams open, the most allowed", {"limit": 8}),
    500: ("internal_error", "unexpected error; correlation id 3f2a…", {}),
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for these error statuses, all with the error shape and an example."""
    return {status: {"model": ErrorOut, "description": _DESCRIPTIONS[status],
                     "content": {"application/json": {"example": _example(status)}}} for status in statuses}


def _example(status: int) -> dict:
    code, message, details = _EXAMPLES[status]
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, headers=headers, content={
        "error": {"code": code, "message": message, "details": details or {}}})


def _validation_details(exc: RequestValidationError) -> dict:
    problems = []
    index = None
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if p != "body"]
        if index is None and len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            index = loc[1]
        problems.append({"loc": loc, "msg": err.get("msg"), "type": err.get("type")})
    details: dict[str, Any] = {"errors": problems}
    if index is not None:
        details["index"] = index
    return details


def _allowed(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    return ", ".join(method for method in _METHODS if any(
        route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes))


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        request.app.state.metrics.rejected.labels(exc.code).inc()
        status = DOMAIN_STATUS[exc.code]
        return error_response(status, exc.code, exc.message, exc.details,
                              headers={"Retry-After": "1"} if status == 503 else None)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        details = _validation_details(exc)
        first = details["errors"][0] if details["errors"] else {"loc": [], "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"]) or "body"
        prefix = f"events[{details['index']}]: " if "index" in details else ""
        return error_response(422, "validation_error", f"{prefix}{where}: {first['msg']}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(request)
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(_: Request, __: ClientDisconnect):
        """The client hung up (or was cut off by the read timeout, services.api.plumbing.protocol)
        before its body arrived: nothing was done and nobody reads an answer. 499 (nginx's
        "client closed request") in the access log and metrics, not a 500 and a traceback."""
        return Response(status_code=CLIENT_GONE)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        cid = correlation_id(request.scope)
        log.error("internal error, correlation id %s: %s %s", cid, request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal_error", f"unexpected error; quote correlation id {cid}",
                              {"correlation_id": cid}, headers={HEADER: cid})

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def _unavailable(_: Request, __: Exception):
        """The database is down or restarting: a retry will do, so 503, not 500; the
        exception's text (socket paths, server messages) stays out of the response."""
        response = error_response(503, "unavailable", "the database is unavailable; retry shortly")
        response.headers["Retry-After"] = "1"
        return response
