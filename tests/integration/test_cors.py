"""CORS (SPEC §6): only the configured origins, none by default."""
from tests.integration.export_helpers import client_for

ALLOWED = "https://app.example.com"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "Authorization, Content-Type"}


def test_preflight_from_an_allowed_origin_gets_the_headers(engine):
    with client_for(engine, DEALTRAIL_CORS_ORIGINS=f"{ALLOWED}, https://other.example.com") as c:
        response = c.options("/v1/deals/x/events", headers={"Origin": ALLOWED, **PREFLIGHT})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert {"GET", "POST", "PUT", "DELETE"} <= set(response.headers["access-control-allow-methods"].split(", "))
        allowed = set(response.headers["access-control-allow-headers"].lower().split(", "))
        assert {"authorization", "content-type", "last-event-id", "x-correlation-id"} <= allowed
        simple = c.get("/healthz", headers={"Origin": ALLOWED})
        assert simple.headers["access-control-allow-origin"] == ALLOWED
        exposed = set(simple.headers["access-control-expose-headers"].lower().split(", "))
        assert exposed == {"x-correlation-id", "last-event-id"}


def test_a_disallowed_origin_gets_none(engine):
    with client_for(engine, DEALTRAIL_CORS_ORIGINS=ALLOWED) as c:
        response = c.options("/v1/deals/x/events", headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
        simple = c.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


def test_no_cors_headers_by_default(engine):
    with client_for(engine) as c:
        response = c.options("/v1/deals/x/events", headers={"Origin": ALLOWED, **PREFLIGHT})
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-origin" not in c.get("/healthz", headers={"Origin": ALLOWED}).headers
