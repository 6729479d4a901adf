"""What the OpenAPI document says beyond what the routes declare, for the frontend developer who
generates a client from it: readable operation ids (`appendDealEvent`, not FastAPI's
`post_event_v1_deals__deal_id__events_post`), the bearer scheme and which operations need it (so
/docs has an Authorize button and generated clients type the header), and no 401/403 on the open
routes, which never send them."""
from fastapi import FastAPI
from fastapi.routing import APIRoute

from services.api.plumbing.access import OPEN

SCHEME = "bearerAuth"
SECURITY_SCHEMES = {SCHEME: {"type": "http", "scheme": "bearer", "description": (
    "An API key (`dealtrail keys create`), sent as `Authorization: Bearer <key>`.")}}

# (method, path) -> operationId, where the handler's name would not say it; others are the
# handler's name in camelCase.
OPERATION_IDS = {
    ("POST", "/v1/deals/{deal_id}/events"): "appendDealEvent",
    ("POST", "/v1/events/batch"): "appendEventBatch",
    ("GET", "/v1/deals/{deal_id}/events"): "getDealEvents",
    ("GET", "/v1/deals/{deal_id}/timeline"): "getDealTimeline",
    ("GET", "/v1/events"): "readEventLog",
    ("GET", "/v1/events/stream"): "streamEvents",
    ("GET", "/v1/reports/funnel"): "getFunnel",
    ("GET", "/v1/reports/cycle-time"): "getCycleTime",
    ("GET", "/v1/reports/forecast"): "getForecast",
    ("GET", "/v1/reports/performance"): "getPerformance",
    ("GET", "/v1/audit/verify"): "verifyAudit",
    ("GET", "/v1/export"): "exportEvents",
    ("GET", "/healthz"): "getLiveness",
    ("GET", "/readyz"): "getReadiness",
}


def operation_id(route: APIRoute) -> str:
    """FastAPI's `generate_unique_id_function`: the id of the route's (one) method."""
    method = sorted(route.methods)[0]
    named = OPERATION_IDS.get((method, route.path_format))
    if named:
        return named
    head, *rest = route.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def install(app: FastAPI) -> None:
    """Wrap `app.openapi` so the document it builds (once, then cached) is completed here."""
    build = app.openapi

    def document() -> dict:
        if app.openapi_schema is None:
            complete(build())
        return app.openapi_schema
    app.openapi = document


def complete(spec: dict) -> dict:
    spec.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            if path in OPEN:
                operation["security"] = []
                for status in ("401", "403"):
                    operation["responses"].pop(status, None)
            else:
                operation["security"] = [{SCHEME: []}]
    return spec
