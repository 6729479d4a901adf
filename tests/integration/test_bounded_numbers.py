"""Issue 23, finding 3: a huge number (`1e7000000`, a 200,000-digit string) in any numeric field
of any body is a quick 422 and does not hold the event loop; before, `"expected_version":
1e7000000` took 6.3 s of it (Decimal/int conversion) and /healthz waited as long."""
import threading
import time

import httpx
import pytest
import uvicorn

from infra.embedded import free_port
from infra.jsontext import BodyRefused, loads_decimal
from infra.settings import Settings
from services.api.app import create_app
from tests import factories as f
from tests.keys import admin_headers

HUGE = ["1e7000000", "-1e7000000", "1" + "0" * 200_000, "1e-7000000"]
_LANE, _ROUTE = "application/json", "application/vnd.dealtrail+json"  # the lean lane; the declared route
_QUOTE = ('{"type": "deal.quote_issued", "data": {"quote_id": "q", "amount": "1", "currency": "USD", '
          '"line_items": [%s]}}')
_ITEM = '{"sku": "s", "qty": %s, "unit_price": %s, "discount": %s}'
_STAGE = '{"stages": [{"key": "lead", "probability": %s, "target_conversion": %s, "stall_after_days": %s}]}'
_TARGET = ('{"scope": "rep", "scope_id": "r1", "period": "2026-11", "metric": "deals_won", "value": %s, '
           '"expected_version": %s}')
_REVIEW = '{"scope": "rep", "scope_id": "r1", "period": "2026-11", "metric": "deals_won", "expected": %s, "actual": %s}'


def _slots(template: str, count: int) -> list[str]:
    """The template once per numeric slot: that slot @, the others a valid 1."""
    return [template % tuple("@" if i == slot else "1" for i in range(count)) for slot in range(count)]


EVENT_BODIES = [
    '{"type": "deal.contact_logged", "expected_version": @, "data": {"channel": "call"}}',
    '{"type": "deal.contact_logged", "data": {"channel": "call", "duration_minutes": @}}',
    '{"type": "deal.feedback_recorded", "data": {"score": @}}',
    '{"type": "deal.signed", "data": {"amount": @, "currency": "USD"}}',
    '{"type": "deal.quote_issued", "data": {"quote_id": "q", "amount": @, "currency": "USD"}}',
    *[_QUOTE % item for item in _slots(_ITEM, 3)],
    '{"type": "deal.updated", "data": {"expected_amount": @, "currency": "USD"}}',
    '{"type": "deal.updated", "data": {"fields": {"budget": @}}}',
]
CASES = [
    *[("POST", "/v1/deals/d1/events", media, body) for body in EVENT_BODIES for media in (_LANE, _ROUTE)],
    ("POST", "/v1/deals/d2/events", _LANE,
     '{"type": "deal.created", "data": {"title": "t", "customer": {"id": "c", "name": "n"}, "owner_id": "r", '
     '"expected_amount": @, "currency": "USD"}}'),
    *[("POST", "/v1/events/batch", _LANE, '{"events": [%s]}' % body.replace('{"type"', '{"deal_id": "d1", "type"', 1))
      for body in EVENT_BODIES],
    *[("PUT", "/v1/pipelines/p1", _LANE, body) for body in _slots(_STAGE, 3)],
    *[("POST", "/v1/targets", _LANE, body) for body in _slots(_TARGET, 2)],
    *[("POST", "/v1/reviews", _LANE, body) for body in _slots(_REVIEW, 2)],
    ("POST", "/v1/reviews/r1/actions", _LANE, '{"title": "t", "owner_id": "r", "action_id": @}'),
    ("POST", "/v1/keys", _LANE, '{"name": @, "role": "auditor"}'),
]


@pytest.fixture(scope="module")
def server(databases):
    from infra.db import make_engine
    from tests.conftest import APP_ROLE
    engine = make_engine(databases.app_url(databases.fresh()), app_role=APP_ROLE, pool_size=5)
    config = uvicorn.Config(create_app(Settings(DATABASE_URL="unused"), engine=engine),
                            host="127.0.0.1", port=free_port(), log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{config.port}", headers=admin_headers(engine), timeout=60) as c:
        assert c.post("/v1/deals/d1/events", json=f.created()).status_code == 201
        yield c
    running.should_exit = True
    thread.join(10)
    engine.dispose()


class Healthz:
    """Polls /healthz on its own connection while a request runs; the slowest answer it saw."""

    def __init__(self, base_url):
        self.client, self.slowest, self.stop = httpx.Client(base_url=base_url, timeout=60), 0.0, threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self.stop.is_set():
            started = time.perf_counter()
            assert self.client.get("/healthz").status_code == 200
            self.slowest = max(self.slowest, time.perf_counter() - started)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(60)
        self.client.close()


@pytest.mark.parametrize("number", HUGE, ids=["exp", "neg-exp", "digits", "tiny"])
@pytest.mark.parametrize("method, path, media, template", CASES, ids=[f"{m} {p} {b[:60]}" for m, p, _, b in CASES])
def test_a_huge_number_is_a_quick_422_that_does_not_hold_the_loop(server, method, path, media, template, number):
    body = template.replace("@", number).encode()
    started = time.perf_counter()
    with pytest.raises(BodyRefused):
        loads_decimal(body)
    assert time.perf_counter() - started < 0.05  # the parse refuses it before any conversion
    with Healthz(server.base_url) as healthz:
        started = time.perf_counter()
        response = server.request(method, path, content=body, headers={"content-type": media})
        took = time.perf_counter() - started
    assert response.status_code == 422, response.text
    assert took < 1.0 and healthz.slowest < 1.0, (took, healthz.slowest)
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["type"] in ("number_too_long", "number_out_of_range"), error


def test_a_huge_query_number_is_a_quick_422(server):
    with Healthz(server.base_url) as healthz:
        started = time.perf_counter()
        response = server.get("/v1/deals", params={"min_amount": "1e7000000"})
        took = time.perf_counter() - started
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert took < 1.0 and healthz.slowest < 1.0, (took, healthz.slowest)
