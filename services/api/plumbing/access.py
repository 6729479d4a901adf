"""Who may call what: every endpoint and the roles allowed, in one table (SPEC §6).
`guard` runs before every route: open routes pass, others need a key (401) whose role the
table allows (403). A route not in the table is admin-only (deny by default). To open a new
router to other roles: `app.include_router(access.allow(router, Role.AUDITOR, Role.MANAGER))`
(admin is always allowed), or add its rows below. Keys are (method, the route's path template
as declared on its APIRouter, prefix included)."""
from fastapi import APIRouter, HTTPException, Request
from fastapi.routing import APIRoute

from services.api.plumbing.deps import get_principal
from services.keys import Role

W, M, AU, AD = Role.WRITER, Role.MANAGER, Role.AUDITOR, Role.ADMIN
DEALS_READ = frozenset({W, M, AU, AD})
REPORTS = frozenset({M, AU, AD})
MANAGE = frozenset({M, AD})
AUDIT = frozenset({AU, AD})
ADMIN = frozenset({AD})
OPEN = frozenset({"/healthz", "/readyz", "/dashboard", "/dashboard/assets/{name}"})  # the dashboard holds no data

ACCESS: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/v1/deals/{deal_id}/events"): frozenset({W, M, AD}),
    ("POST", "/v1/events/batch"): frozenset({W, M, AD}),
    ("GET", "/v1/deals"): DEALS_READ,
    ("GET", "/v1/deals/{deal_id}"): DEALS_READ,
    ("GET", "/v1/deals/{deal_id}/events"): DEALS_READ,
    ("GET", "/v1/deals/{deal_id}/timeline"): DEALS_READ,
    ("GET", "/v1/events"): AUDIT,
    ("GET", "/v1/events/stream"): AUDIT,  # the log, as GET /v1/events
    ("GET", "/v1/audit/verify"): AUDIT,
    ("GET", "/v1/projections"): REPORTS,
    ("GET", "/v1/reports/funnel"): REPORTS,
    ("GET", "/v1/reports/cycle-time"): REPORTS,
    ("GET", "/v1/reports/forecast"): REPORTS,
    ("GET", "/v1/reports/performance"): REPORTS,
    ("POST", "/v1/targets"): MANAGE,
    ("GET", "/v1/targets"): MANAGE,
    ("POST", "/v1/reviews"): MANAGE,
    ("POST", "/v1/reviews/{review_id}/actions"): MANAGE,
    ("POST", "/v1/reviews/{review_id}/actions/{action_id}/complete"): MANAGE,
    ("POST", "/v1/reviews/{review_id}/close"): MANAGE,
    ("GET", "/v1/reviews"): MANAGE,
    ("GET", "/v1/reviews/{review_id}"): MANAGE,
    ("GET", "/v1/pipelines"): MANAGE,
    ("PUT", "/v1/pipelines/{pipeline}"): ADMIN,
    ("POST", "/v1/keys"): ADMIN,
    ("GET", "/v1/keys"): ADMIN,
    ("DELETE", "/v1/keys/{key_id}"): ADMIN,
    ("GET", "/metrics"): REPORTS,  # without a key from loopback (or DEALTRAIL_METRICS_PUBLIC)
}
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def allow(router: APIRouter, *roles: Role) -> APIRouter:
    """Add every route of `router` to the table for these roles (admin always); returns it, so
    `app.include_router(access.allow(audit.router, Role.AUDITOR))` guards a whole router."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            for method in route.methods:
                ACCESS[(method, route.path)] = frozenset(roles) | ADMIN
    return router


def allows(role: str | None, method: str, path: str) -> bool:
    """Whether a key of `role` may call `method` `path` (a route template); the guard and the
    append route's fast path both ask here."""
    return role in ACCESS.get((method, path), ADMIN)


async def guard(request: Request) -> None:
    """The app-wide check (see the module docstring)."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    if path in OPEN or (path == "/metrics" and _metrics_open(request)):
        return
    principal = await get_principal(request)
    if not allows(principal.role, request.method.upper(), path):
        raise HTTPException(403, f"role {principal.role} may not {request.method} {path}")


def _metrics_open(request: Request) -> bool:
    client = request.client.host if request.client else None
    return request.app.state.settings.metrics_public or client in LOOPBACK
