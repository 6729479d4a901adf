"""The append lane (services.api.plumbing.append_route) answers POST /v1/deals/{deal_id}/events as the
declared route does, through the app's own middlewares and exception handlers: same bodies, headers,
statuses, metrics and log lines; what it declines
(here, chunked bodies, repeated headers, other JSON media types) reaches the route intact."""
import asyncio
import json
import logging
import uuid

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from infra.settings import Settings
from services.api.app import create_app
from tests import factories as f
from tests.integration.helpers import assert_error, log_size, post
from tests.keys import admin_headers

JSON = {"Content-Type": "application/json"}
ROUTE_ONLY = {"Content-Type": "application/vnd.dealtrail+json"}  # JSON the lane leaves to the route


@pytest.fixture()
def app(engine):
    return create_app(Settings(DATABASE_URL="unused"), engine=engine)


@pytest.fixture()
def client(app, engine):
    with TestClient(app, headers=admin_headers(engine), raise_server_exceptions=False) as c:
        yield c


def _send_in_chunks(app, deal_id: str, body: bytes, size: int, headers: dict[str, str]) -> tuple[int, dict]:
    """POST `body` straight to the ASGI app in messages of `size` bytes (the test client sends
    a body in one); (status, JSON answer)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": f"/v1/deals/{deal_id}/events", "raw_path": b"", "root_path": "",
             "query_string": b"", "server": ("test", 80), "client": ("127.0.0.1", 1), "state": {},
             "headers": [(k.lower().encode(), v.encode()) for k, v in {**headers, **JSON}.items()]}
    messages = [{"type": "http.request", "body": body[i:i + size], "more_body": i + size < len(body)}
                for i in range(0, len(body), size)]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_lane_and_route_answer_alike(client, deal_id):
    other = f"{deal_id}-route"
    event_id = str(uuid.uuid4())
    lane = post(client, deal_id, {**f.created(), "event_id": event_id}, **{"X-Correlation-ID": "c-lane"})
    route = client.post(f"/v1/deals/{other}/events", content=json.dumps(f.created()),
                        headers={**ROUTE_ONLY, "X-Correlation-ID": "c-route"})
    assert lane.status_code == route.status_code == 201
    assert list(lane.headers.keys()) == list(route.headers.keys())
    assert lane.headers["x-correlation-id"] == "c-lane" and route.headers["x-correlation-id"] == "c-route"
    assert list(lane.json()) == list(route.json()) == ["event_id", "deal_id", "stream_version", "position",
                                                       "recorded_at", "hash"]
    assert lane.json()["recorded_at"].endswith("Z") == route.json()["recorded_at"].endswith("Z")
    retried = post(client, deal_id, {**f.created(), "event_id": event_id})
    assert retried.status_code == 200 and retried.content == lane.content
    by_route = client.post(f"/v1/deals/{deal_id}/events", headers=ROUTE_ONLY,
                           content=json.dumps({**f.created(), "event_id": event_id}))
    assert by_route.status_code == 200 and by_route.content == lane.content  # byte for byte


def test_bodies_sent_in_pieces_are_read_whole(app, engine, deal_id):
    headers = admin_headers(engine)
    status, _ = _send_in_chunks(app, deal_id, json.dumps(f.created()).encode(), 7, headers)
    assert status == 201
    before = log_size(engine)
    status, answer = _send_in_chunks(app, deal_id, json.dumps(f.contact(channel="pigeon")).encode(), 7, headers)
    assert (status, answer["error"]["code"]) == (422, "validation_error") and log_size(engine) == before


def test_a_body_over_the_limit_sent_without_its_length_is_413(app, engine, deal_id):
    huge = json.dumps(f.created(title="x" * (300 * 1024))).encode()
    status, answer = _send_in_chunks(app, deal_id, huge, 64 * 1024, admin_headers(engine))
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")


def test_a_repeated_trace_header_goes_to_the_route(client, deal_id):
    r = client.post(f"/v1/deals/{deal_id}/events", content=json.dumps(f.created()),
                    headers=[("Content-Type", "application/json"), ("X-Causation-ID", "a"), ("X-Causation-ID", "b")])
    assert r.status_code == 201  # the route keeps one of them, as it always did


def test_an_unknown_key_is_looked_up_once(app, engine, deal_id, monkeypatch):
    from services import keys
    calls = []
    real = keys.find_active
    monkeypatch.setattr(keys, "find_active", lambda *a: calls.append(1) or real(*a))
    with TestClient(app, headers={"Authorization": "Bearer dt_unknown"}) as client:
        assert_error(post(client, deal_id, f.created()), 401, "unauthenticated")
    assert len(calls) == 1


def test_posts_are_logged_timed_and_counted(client, app, deal_id, caplog):
    metrics = app.state.metrics
    with caplog.at_level(logging.INFO, logger="dealtrail.access"):
        assert post(client, deal_id, f.created(), **{"X-Correlation-ID": "c-log"}).status_code == 201
        assert_error(post(client, deal_id, f.created()), 409, "deal_exists")
    logged = [r for r in caplog.records if r.name == "dealtrail.access"][-2:]
    assert [(r.method, r.path, r.status) for r in logged] == [("POST", f"/v1/deals/{deal_id}/events", 201),
                                                               ("POST", f"/v1/deals/{deal_id}/events", 409)]
    assert logged[0].correlation_id == "c-log" and logged[0].actor.startswith("test-admin-")
    route = "/v1/deals/{deal_id}/events"
    for status in ("201", "409"):
        assert metrics.registry.get_sample_value("dealtrail_http_request_seconds_count",
                                                 {"method": "POST", "route": route, "status": status}) >= 1
    assert metrics.registry.get_sample_value("dealtrail_events_appended_total", {"type": "deal.created"}) >= 1
    assert metrics.registry.get_sample_value("dealtrail_events_rejected_total", {"code": "deal_exists"}) >= 1


class _Failing:
    def __init__(self, exc):
        self.exc = exc

    async def append(self, _post):
        raise self.exc

    def close(self):
        pass


def test_a_database_lost_during_the_append_is_503(client, app, engine, deal_id):
    app.state.appender = _Failing(OperationalError("SELECT 1", {}, Exception("gone")))
    r = post(client, deal_id, f.created(), **{"X-Correlation-ID": "c-503"})
    assert_error(r, 503, "unavailable")
    assert r.headers["retry-after"] == "1" and r.headers["x-correlation-id"] == "c-503"


def test_an_unexpected_error_is_500_with_the_correlation_id(client, app, deal_id, caplog):
    app.state.appender = _Failing(RuntimeError("boom"))
    with caplog.at_level(logging.INFO, logger="dealtrail.access"):
        r = post(client, deal_id, f.created(), **{"X-Correlation-ID": "c-500"})
    error = assert_error(r, 500, "internal_error")
    assert error["details"] == {"correlation_id": "c-500"} and "boom" not in r.text
    assert r.headers["x-correlation-id"] == "c-500"
    assert [r.status for r in caplog.records if r.name == "dealtrail.access"][-1] == 500


def test_a_post_the_lane_serves_skips_routing_and_one_it_declines_reaches_the_route(client, app, deal_id,
                                                                                   monkeypatch):
    """The lane's speed is in skipping FastAPI's route handling; what it declines gets all of it."""
    handled, real = [], APIRoute.handle

    async def counting(self, scope, receive, send):
        if self.path == "/v1/deals/{deal_id}/events":
            handled.append(scope["path"])
        await real(self, scope, receive, send)
    monkeypatch.setattr(APIRoute, "handle", counting)
    assert post(client, deal_id, f.created()).status_code == 201
    assert handled == []
    other = f"{deal_id}-declined"
    assert client.post(f"/v1/deals/{other}/events", content=json.dumps(f.created()),
                       headers=ROUTE_ONLY).status_code == 201
    assert handled == [f"/v1/deals/{other}/events"]
