"""/docs (Swagger UI) and /redoc with their assets served from the package (vendored from npm:
swagger-ui-dist 5.35.0 and redoc 3.0.1, licences beside them in services/api/static/docs), so
the API's documentation works offline and loads nothing from another host."""
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

from services.api.routes.dashboard import STATIC

ASSETS = "/static/docs"


def install(app: FastAPI) -> None:
    """Mount the assets and the two pages (open, like FastAPI's own: they hold no data)."""
    app.mount(ASSETS, StaticFiles(directory=str(STATIC / "docs")), name="docs-assets")
    title = f"{app.title} API"

    async def swagger(_: Request):
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=title,
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css", swagger_favicon_url="data:,")

    async def redoc(_: Request):
        return get_redoc_html(openapi_url=app.openapi_url, title=title, redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                              redoc_favicon_url="data:,", with_google_fonts=False)
    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
    describe_parameters(app)


# Descriptions of the parameters declared without one (by name; the routes' own win).
PARAMETERS = {
    "deal_id": "The deal (stream id): letters, digits and . _ : - (1-200 characters).",
    "review_id": "The review (its stream is review:<review_id>).",
    "action_id": "The action item within the review.",
    "key_id": "The API key's id (from GET /v1/keys), not its secret.",
    "pipeline": "Pipeline key (default `default`); stages are listed in its order.",
    "after": "Only positions after this one (0: from the start); pages continue from `next_after`.",
    "after_version": "Only stream versions after this one.",
    "limit": "Page size (the maximum is enforced; a larger value is 422).",
    "mode": "`cohort` (deals created in [from, to), how far they got) or `snapshot` (open deals per stage at `at`).",
    "outcome": "Deals closed as `won` or `lost` (their final close).",
    "period": "A calendar month `2026-11`, quarter `2026-Q4` or year `2026` (UTC, business time).",
    "scope": "Whom the figures are about: `rep`, `team` or (forecast, targets) `company`.",
    "status": "`open` or `closed`.",
    "event_id": "The event (UUID) whose inclusion proof is wanted.",
    "tree_size": "Size of the Merkle tree (a digest's tree_size) to prove against.",
    "first": "The earlier tree size (a saved digest's tree_size).",
    "second": "The later tree size.",
    "format": "`ndjson` (envelopes), `cloudevents` (CloudEvents JSON lines) or `csv`.",
}


def describe_parameters(app: FastAPI) -> None:
    """Every parameter in the OpenAPI document carries a description."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for operation in (op for ops in schema["paths"].values() for op in ops.values()):
                for parameter in operation.get("parameters", []):
                    if not parameter.get("description") and parameter["name"] in PARAMETERS:
                        parameter["description"] = PARAMETERS[parameter["name"]]
            app.openapi_schema = schema
        return app.openapi_schema
    app.openapi = openapi
