"""Issue 7, findings 4 and 7: one JSON error shape for every error (unexpected ones too, with a
correlation id and no internals), 415 for non-JSON bodies, 405 with `Allow`, documented error
responses, and bounded request headers."""
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from infra.settings import Settings
from services.api.app import create_app
from tests import factories as f
from tests.integration.helpers import assert_error, assert_writes_nothing, post
from tests.keys import admin_headers

ERROR_REF = "#/components/schemas/ErrorOut"


@pytest.fixture()
def deal(client, deal_id):
    assert post(client, deal_id, f.created()).status_code == 201
    return deal_id


@pytest.fixture()
def failing_client(engine, db_url):
    """An app with one route that fails the way a bug would."""
    app = create_app(Settings(DATABASE_URL=db_url), engine=engine)

    @app.get("/boom")
    def boom():
        raise RuntimeError("SELECT secret FROM internals")
    with TestClient(app, raise_server_exceptions=False, headers=admin_headers(engine)) as c:
        yield c


def test_unexpected_error_is_json_with_correlation_id_and_no_internals(failing_client):
    r = failing_client.get("/boom", headers={"X-Correlation-ID": "corr-boom"})
    error = assert_error(r, 500, "internal_error")
    assert error["details"] == {"correlation_id": "corr-boom"}
    assert r.headers["x-correlation-id"] == "corr-boom"
    assert "secret" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text


def test_unexpected_error_without_correlation_header_gets_one(failing_client):
    r = failing_client.get("/boom")
    error = assert_error(r, 500, "internal_error")
    assert error["details"]["correlation_id"] == r.headers["x-correlation-id"] != ""


def test_correlation_id_is_echoed_and_recorded(client, deal):
    r = post(client, deal, f.contact())
    assert r.status_code == 201
    last = client.get(f"/v1/deals/{deal}/events").json()["events"][-1]
    assert r.headers["x-correlation-id"] == last["correlation_id"]
    r = post(client, deal, f.contact(), **{"X-Correlation-ID": "corr-2"})
    assert r.headers["x-correlation-id"] == "corr-2"


def test_loop_endpoints_record_the_request_headers(client, engine):
    r = client.post("/v1/targets", json={"scope": "rep", "scope_id": "hdr", "period": "2026-11",
                                         "metric": "contacts", "value": 1},
                    headers={"X-Correlation-ID": "corr-loop", "X-Dealtrail-Source": "crm/ui"})
    assert r.status_code == 201, r.text
    with engine.connect() as conn:
        recorded = conn.execute(text("SELECT correlation_id, source FROM events.event WHERE event_id = :e"),
                                {"e": r.json()["event_id"]}).one()
    assert tuple(recorded) == ("corr-loop", "crm/ui")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_non_json_body_is_415(client, engine, deal, content_type):
    body = b'{"type": "deal.contact_logged", "data": {"channel": "call"}}'
    assert_writes_nothing(engine, lambda: client.post(f"/v1/deals/{deal}/events", content=body,
                                                      headers={"content-type": content_type}),
                          415, "unsupported_media_type")


def test_non_json_body_is_415_everywhere(client, engine):
    target = b'{"scope": "rep", "scope_id": "r", "period": "2026-11", "metric": "contacts", "value": 1}'
    for path in ("/v1/targets", "/v1/events/batch", "/v1/reviews"):
        assert_writes_nothing(engine, lambda path=path: client.post(path, content=target,
                                                                    headers={"content-type": "text/plain"}),
                              415, "unsupported_media_type")
    assert_writes_nothing(engine, lambda: client.put("/v1/pipelines/p415", content=b"{}",
                                                     headers={"content-type": "text/plain"}),
                          415, "unsupported_media_type")


def test_json_with_charset_and_plus_json_are_accepted(client, deal):
    body = b'{"type": "deal.contact_logged", "data": {"channel": "call"}}'
    for content_type in ("application/json; charset=utf-8", "application/cloudevents+json"):
        r = client.post(f"/v1/deals/{deal}/events", content=body, headers={"content-type": content_type})
        assert r.status_code == 201, r.text


def test_bodyless_posts_need_no_content_type(client):
    review = client.post("/v1/reviews", json={"scope": "rep", "scope_id": "r", "period": "2026-11",
                                              "metric": "contacts", "expected": 1, "actual": 0}).json()
    review_id = review["deal_id"].removeprefix("review:")
    assert client.post(f"/v1/reviews/{review_id}/close").status_code == 201


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/v1/deals/d1/events", {"GET", "POST"}),
    ("PUT", "/v1/targets", {"GET", "POST"}),
    ("POST", "/v1/reports/funnel", {"GET"}),
    ("PATCH", "/v1/pipelines/default", {"PUT"}),
])
def test_405_names_the_allowed_methods(client, method, path, allowed):
    r = client.request(method, path)
    assert_error(r, 405, "method_not_allowed")
    assert allowed <= {m.strip() for m in r.headers["allow"].split(",")}


def test_unknown_path_is_json_404(client):
    assert_error(client.get("/v1/nowhere"), 404, "not_found")


@pytest.mark.parametrize("method, path, statuses", [
    ("post", "/v1/deals/{deal_id}/events", {"404", "409", "413", "415", "422"}),
    ("post", "/v1/events/batch", {"404", "409", "413", "415", "422"}),
    ("get", "/v1/deals/{deal_id}", {"404", "422"}),
    ("get", "/v1/deals/{deal_id}/events", {"404", "422"}),
    ("post", "/v1/targets", {"409", "413", "415", "422"}),
    ("post", "/v1/reviews/{review_id}/actions", {"404", "409", "413", "415", "422"}),
    ("get", "/v1/reviews/{review_id}", {"404", "422"}),
    ("get", "/v1/reports/funnel", {"422"}),
    ("get", "/v1/reports/forecast", {"422"}),
])
def test_openapi_documents_error_responses(client, method, path, statuses):
    responses = client.get("/openapi.json").json()["paths"][path][method]["responses"]
    assert statuses <= set(responses)
    for status in statuses:
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": ERROR_REF}


def test_openapi_error_model_is_the_error_shape(client):
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(spec["paths"])  # FastAPI's default 422 body is not ours
    schema = spec["components"]["schemas"]
    assert set(schema["ErrorOut"]["properties"]) == {"error"}
    assert set(schema["ErrorBody"]["required"]) == {"code", "message", "details"}


@pytest.mark.parametrize("source", ["x" * 60_000, "x" * 201, "crm\x01ui", "crm\x7f", "tab\there"])
def test_source_header_is_bounded_and_printable(client, engine, deal, source):
    assert_writes_nothing(engine, lambda: post(client, deal, f.contact(), **{"X-Dealtrail-Source": source}),
                          422, "validation_error")


def test_source_header_is_recorded(client, deal):
    assert post(client, deal, f.contact(), **{"X-Dealtrail-Source": "crm/ui v2.1"}).status_code == 201
    assert client.get(f"/v1/deals/{deal}/events").json()["events"][-1]["source"] == "crm/ui v2.1"


@pytest.mark.parametrize("header", ["X-Correlation-ID", "X-Causation-ID"])
@pytest.mark.parametrize("value", ["x" * 201, "a\x01b", ""])
def test_trace_headers_are_bounded_and_printable(client, engine, deal, header, value):
    assert_writes_nothing(engine, lambda: post(client, deal, f.contact(), **{header: value}),
                          422, "validation_error")
    assert_writes_nothing(engine, lambda: client.post("/v1/targets", headers={header: value}, json={
        "scope": "rep", "scope_id": "r", "period": "2026-11", "metric": "contacts", "value": 1}),
        422, "validation_error")
