"""SPEC §6: every role against every endpoint class, and the 401s. Expectations are written
out here from the SPEC, not read from services.api.plumbing.access (the table under test)."""
import uuid

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services import keys
from services.api.app import create_app
from tests import factories as f
from tests.integration.helpers import assert_error
from tests.keys import bearer, key_headers

W, M, AU, AD = "writer", "manager", "auditor", "admin"
ROLES = (W, M, AU, AD)


def _deal() -> str:
    return f"acc-{uuid.uuid4().hex[:10]}"


def _batch():
    return {"events": [{"deal_id": _deal(), **f.created()}]}


# (method, url, body (a callable for fresh ids), roles allowed). Bodies may be invalid on
# purpose where a real write would change shared state (PUT pipelines): allowed means "not 401/403".
ENDPOINTS = [
    ("POST", lambda: f"/v1/deals/{_deal()}/events", f.created, {W, M, AD}),
    ("POST", lambda: "/v1/events/batch", _batch, {W, M, AD}),
    ("GET", lambda: "/v1/deals", None, {W, M, AU, AD}),
    ("GET", lambda: "/v1/deals/acc-none", None, {W, M, AU, AD}),
    ("GET", lambda: "/v1/deals/acc-none/events", None, {W, M, AU, AD}),
    ("GET", lambda: "/v1/events?after=999999999&limit=1", None, {AU, AD}),
    ("GET", lambda: "/v1/audit/verify", None, {AU, AD}),
    ("GET", lambda: "/v1/projections", None, {M, AU, AD}),
    ("GET", lambda: "/v1/reports/funnel", None, {M, AU, AD}),
    ("GET", lambda: "/v1/reports/cycle-time", None, {M, AU, AD}),
    ("GET", lambda: "/v1/reports/forecast", None, {M, AU, AD}),
    ("GET", lambda: "/v1/reports/performance?period=2026-11", None, {M, AU, AD}),
    ("POST", lambda: "/v1/targets", lambda: {}, {M, AD}),
    ("GET", lambda: "/v1/targets?period=2026-11", None, {M, AD}),
    ("POST", lambda: "/v1/reviews", lambda: {}, {M, AD}),
    ("POST", lambda: "/v1/reviews/acc-r/actions", lambda: {}, {M, AD}),
    ("POST", lambda: "/v1/reviews/acc-r/actions/a1/complete", lambda: {"x": 1}, {M, AD}),
    ("POST", lambda: "/v1/reviews/acc-r/close", lambda: {"x": 1}, {M, AD}),
    ("GET", lambda: "/v1/reviews", None, {M, AD}),
    ("GET", lambda: "/v1/reviews/acc-r", None, {M, AD}),
    ("GET", lambda: "/v1/pipelines", None, {M, AD}),
    ("PUT", lambda: "/v1/pipelines/default", lambda: {}, {AD}),
    ("POST", lambda: "/v1/keys", lambda: {"name": f"k-{uuid.uuid4().hex[:8]}", "role": "auditor"}, {AD}),
    ("GET", lambda: "/v1/keys", None, {AD}),
    ("DELETE", lambda: "/v1/keys/no-such-key", None, {AD}),
    ("GET", lambda: "/metrics", None, {M, AU, AD}),  # off loopback
    ("GET", lambda: "/v1/audit/digest", None, {AU, AD}),
    ("GET", lambda: "/v1/audit/public-key", None, {AU, AD}),
    ("GET", lambda: "/v1/audit/consistency?first=1&second=1", None, {AU, AD}),
    ("GET", lambda: "/v1/export?format=ndjson&after=999999999", None, {AU, AD}),
]
IDS = [f"{method} {url()}".split("?")[0] for method, url, _, _ in ENDPOINTS]


@pytest.fixture(scope="module")
def role_headers(engine):
    return {role: key_headers(engine, role) for role in ROLES}


def call(client, endpoint, headers):
    method, url, body, _ = endpoint
    return client.request(method, url(), json=body() if body else None, headers=headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_each_role_is_allowed_exactly_what_the_spec_says(client, role_headers, endpoint, role):
    response = call(client, endpoint, role_headers[role])
    if role in endpoint[3]:
        assert response.status_code not in (401, 403), response.text
    else:
        assert_error(response, 403, "forbidden")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("credentials", ["none", "invalid", "not bearer", "revoked"])
def test_without_a_valid_key_every_endpoint_is_401(client, engine, endpoint, credentials):
    headers = {"none": {"Authorization": ""}, "invalid": bearer("dt_" + "x" * 43),
               "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"}}.get(credentials)
    if credentials == "revoked":
        key, secret = keys.create(engine, f"revoked-{uuid.uuid4().hex[:8]}", AD)
        headers = bearer(secret)
        assert client.get("/v1/keys", headers=headers).status_code == 200  # now cached
        assert client.delete(f"/v1/keys/{key.key_id}", headers=headers).status_code == 200
    response = call(client, endpoint, headers)
    assert_error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_is_open(client, path):
    assert client.get(path, headers={"Authorization": ""}).status_code == 200


def test_metrics_are_open_on_loopback_or_when_configured(engine):
    settings = Settings(DATABASE_URL="unused")
    with TestClient(create_app(settings, engine=engine), client=("127.0.0.1", 5000)) as local:
        assert local.get("/metrics").status_code == 200
    with TestClient(create_app(settings, engine=engine)) as remote:
        assert_error(remote.get("/metrics"), 401, "unauthenticated")
    public = Settings(DATABASE_URL="unused", DEALTRAIL_METRICS_PUBLIC="true")
    with TestClient(create_app(public, engine=engine)) as remote:
        assert remote.get("/metrics").status_code == 200


def test_an_unlisted_route_is_admin_only_unless_its_router_is_allowed_to_roles(engine):
    """How the routers of other branches are guarded: `access.allow(router, roles...)`."""
    from fastapi import APIRouter

    from services.api.plumbing.access import allow
    from services.keys import Role
    app = create_app(Settings(DATABASE_URL="unused"), engine=engine)
    plain, audited = APIRouter(), APIRouter()
    plain.get("/v1/plain")(lambda: {})
    audited.get("/v1/audited")(lambda: {})
    app.include_router(plain)
    app.include_router(allow(audited, Role.AUDITOR))
    headers = {role: key_headers(engine, role) for role in ROLES}
    with TestClient(app) as c:
        assert [c.get("/v1/plain", headers=headers[r]).status_code for r in ROLES] == [403, 403, 403, 200]
        assert [c.get("/v1/audited", headers=headers[r]).status_code for r in ROLES] == [403, 403, 200, 200]
        assert c.get("/v1/audited").status_code == 401
