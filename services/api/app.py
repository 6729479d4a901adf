"""`create_app`: the one place the HTTP application is wired."""
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from infra.db import make_engine
from infra.settings import Settings
from services.api.plumbing import access, cors, errors, metrics, openapi_doc, strict
from services.api.plumbing.access_log import AccessLogMiddleware
from services.api.plumbing.append_route import AppendLane
from services.api.plumbing.auth import KeyAuthenticator
from services.api.plumbing.correlation import CorrelationMiddleware
from services.api.routes import (
    audit,
    dashboard,
    deal_list,
    deals,
    docs,
    event_log,
    export,
    health,
    keys,
    pipelines,
    reports,
    reviews,
    stream,
    targets,
    timeline,
)
from services.keys import Role

DESCRIPTION = """Dealtrail: an event-sourced deal-tracking backend.
Every deal event is appended to PostgreSQL (the system of record) and relayed to Kafka.
Errors are `{"error": {"code", "message", "details"}}`; every response carries `X-Correlation-ID`."""


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """With `engine=None` the app opens its own (as the dealtrail_app role) at startup."""
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = engine is None
        app.state.engine = engine or make_engine(settings.database_url, app_role="dealtrail_app",
                                                 pool_size=20)
        yield
        if getattr(app.state, "appender", None) is not None:
            app.state.appender.close()
            app.state.appender = None
        if own:
            app.state.engine.dispose()

    app = FastAPI(title="Dealtrail", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # served with local assets by services.api.routes.docs
                  generate_unique_id_function=openapi_doc.operation_id,
                  responses=errors.documented(401, 403, 500),  # every route but the open ones needs a key
                  dependencies=[Depends(access.guard), Depends(strict.reject_unknown_query)])
    app.state.settings = settings
    app.state.authenticate = KeyAuthenticator(settings.auth_cache_seconds)
    if engine is not None:
        app.state.engine = engine
    errors.install(app)
    app.add_middleware(AccessLogMiddleware)  # added first: runs inside the correlation middleware
    app.add_middleware(CorrelationMiddleware)
    # outside both: the posts it serves it answers through them (plumbing.append_route)
    app.add_middleware(AppendLane, route=deals.single_append_route())
    app.state.metrics = metrics.install(app)
    for router in (deals.events_router, deals.batch_router, deal_list.router, deals.read_router, timeline.router,
                   event_log.router, stream.router,
                   reports.router, targets.router, reviews.router, pipelines.router, keys.router, health.router,
                   dashboard.router,
                   access.allow(audit.router, Role.AUDITOR), access.allow(export.router, Role.AUDITOR)):
        app.include_router(router)
    docs.install(app)
    openapi_doc.install(app)
    cors.install(app, settings.cors_origins)
    return app
