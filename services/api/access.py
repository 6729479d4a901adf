"""Who may call what: every endpoint and the roles allowed, in one table (SPEC §6).
`guard` runs before every route: open routes pass, others need a key (401) whose role the
table allows (403). A route not in the table is admin-only unless its router carries
`require(...)`: `app.include_router(router, dependencies=[require(Role.AUDITOR, Role.MANAGER)])`
(admin is always allowed)."""
from fastapi import Depends, HTTPException, Request
from fastapi.routing import APIRoute

from services.api.deps import Principal, get_principal
from services.keys import Role

W, M, AU, AD = Role.WRITER, Role.MANAGER, Role.AUDITOR, Role.ADMIN
DEALS_READ = frozenset({W, M, AU, AD})
REPORTS = frozenset({M, AU, AD})
MANAGE = frozenset({M, AD})
AUDIT = frozenset({AU, AD})
ADMIN = frozenset({AD})
OPEN = frozenset({"/healthz", "/readyz"})

ACCESS: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/v1/deals/{deal_id}/events"): frozenset({W, M, AD}),
    ("POST", "/v1/events/batch"): frozenset({W, M, AD}),
    ("GET", "/v1/deals"): DEALS_READ,
    ("GET", "/v1/deals/{deal_id}"): DEALS_READ,
    ("GET", "/v1/deals/{deal_id}/events"): DEALS_READ,
    ("GET", "/v1/events"): AUDIT,
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


def forbidden(principal: Principal, what: str) -> HTTPException:
    return HTTPException(403, f"role {principal.role} may not {what}")


def require(*roles: Role):
    """A dependency allowing these roles (and admin) on a router or route."""
    allowed = frozenset(roles) | ADMIN

    async def check(request: Request) -> None:
        principal = await get_principal(request)
        if principal.role not in allowed:
            raise forbidden(principal, f"{request.method} {request.url.path}")
    check.roles = allowed
    return Depends(check)


async def guard(request: Request) -> None:
    """The app-wide check (see the module docstring)."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    if path in OPEN or (path == "/metrics" and _metrics_open(request)):
        return
    principal = await get_principal(request)
    allowed = ACCESS.get((request.method.upper(), path))
    if allowed is None and isinstance(route, APIRoute) and _has_require(route):
        return  # the route's own require(...) decides
    if principal.role not in (allowed or ADMIN):
        raise forbidden(principal, f"{request.method} {path}")


def _has_require(route: APIRoute) -> bool:
    return any(hasattr(d.dependency, "roles") for d in route.dependencies)


def _metrics_open(request: Request) -> bool:
    client = request.client.host if request.client else None
    return request.app.state.settings.metrics_public or client in LOOPBACK
