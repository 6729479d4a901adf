"""Every rule of SPEC §2 through HTTP: the status, the error shape, and that nothing was written."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests import factories as f
from tests.integration.helpers import log_size, post


@pytest.fixture()
def deal(client, deal_id):
    assert post(client, deal_id, f.created()).status_code == 201
    return deal_id


def assert_rejected(client, engine, response_fn, status, code):
    before = log_size(engine)
    response = response_fn()
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and body["error"]["message"]
    assert log_size(engine) == before
    return body["error"]


def test_append_returns_envelope_summary(client, deal_id):
    r = post(client, deal_id, f.created())
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"event_id", "deal_id", "stream_version", "position", "recorded_at", "hash"}
    assert body["deal_id"] == deal_id and body["stream_version"] == 1 and len(body["hash"]) == 64


@pytest.mark.parametrize("body", [
    {"type": "deal.nonsense", "data": {}},
    {"type": "deal.contact_logged", "data": {"channel": "call", "mood": "good"}},
    {"type": "deal.contact_logged", "data": {"channel": "call"}, "extra": 1},
    {"type": "deal.contact_logged", "data": {}},
    {"type": "deal.contact_logged", "data": {"channel": 5}},
    {"type": "deal.quote_issued", "data": {"quote_id": "q", "amount": "ten", "currency": "USD"}},
    {"type": "deal.signed", "data": {"amount": "10", "currency": "EURO"}},
    {"type": "deal.signed", "data": {"amount": 0, "currency": "USD"}},
    {"type": "deal.signed", "data": {"amount": "-1", "currency": "USD"}},
    {"type": "deal.contact_logged", "occurred_at": "yesterday", "data": {"channel": "call"}},
    {"type": "deal.contact_logged", "occurred_at": "2026-01-01T00:00:00", "data": {"channel": "call"}},
    {"data": {"channel": "call"}},
    [],
])
def test_malformed_events_are_422(client, engine, deal, body):
    err = assert_rejected(client, engine, lambda: post(client, deal, body), 422, "validation_error")
    assert err["details"]["errors"]


def test_invalid_json_is_422(client, engine, deal):
    assert_rejected(client, engine, lambda: client.post(
        f"/v1/deals/{deal}/events", content=b'{"type": ', headers={"content-type": "application/json"}),
        422, "validation_error")


def test_bad_deal_id_is_422(client, engine):
    assert_rejected(client, engine, lambda: post(client, "target:x", f.created()), 422, "validation_error")


def test_reporting_currency_only(client, engine, deal):
    err = assert_rejected(client, engine, lambda: post(client, deal, f.signed(currency="EUR")),
                          422, "unsupported_currency")
    assert "EUR" in err["message"]


def test_future_occurred_at_is_422(client, engine, deal):
    ahead = (datetime.now(timezone.utc) + timedelta(minutes=10)).isoformat()
    assert_rejected(client, engine, lambda: post(client, deal, f.contact(occurred_at=ahead)),
                    422, "occurred_at_in_future")


def test_body_over_256_kib_is_413(client, engine, deal):
    body = f.contact()
    body["data"]["summary"] = "x" * (257 * 1024)
    assert_rejected(client, engine, lambda: post(client, deal, body), 413, "payload_too_large")


def test_unknown_deal_is_404(client, engine, deal_id):
    assert_rejected(client, engine, lambda: post(client, deal_id, f.contact()), 404, "deal_not_found")


def test_created_twice_is_409(client, engine, deal):
    assert_rejected(client, engine, lambda: post(client, deal, f.created()), 409, "deal_exists")


def test_wrong_from_stage_is_409_naming_current(client, engine, deal):
    err = assert_rejected(client, engine, lambda: post(client, deal, f.moved("proposal", "negotiation")),
                          409, "stage_conflict")
    assert "lead" in err["message"] and err["details"]["current_stage"] == "lead"


def test_unknown_stage_is_422(client, engine, deal):
    assert_rejected(client, engine, lambda: post(client, deal, f.moved("lead", "mars")), 422, "unknown_stage")


def test_closed_deal_rejects_other_events(client, engine, deal):
    assert post(client, deal, f.signed()).status_code == 201
    for body in (f.contact(), f.quote(), f.lost(), f.moved("won", "lead")):
        assert_rejected(client, engine, lambda body=body: post(client, deal, body), 409, "deal_closed")
    assert post(client, deal, {"type": "deal.feedback_recorded", "data": {"score": 5}}).status_code == 201
    assert post(client, deal, {"type": "deal.reopened", "data": {"to_stage": "negotiation"}}).status_code == 201
    assert client.get(f"/v1/deals/{deal}").json()["stage"] == "negotiation"


def test_regressions_and_skips_are_accepted_and_marked(client, deal):
    assert post(client, deal, f.moved("lead", "proposal")).status_code == 201
    assert client.get(f"/v1/deals/{deal}").json()["last_transition"]["kind"] == "skip"
    assert post(client, deal, f.moved("proposal", "contacted")).status_code == 201
    assert client.get(f"/v1/deals/{deal}").json()["last_transition"]["kind"] == "regression"


def test_expected_version_mismatch_is_409_with_actual(client, engine, deal):
    err = assert_rejected(client, engine, lambda: post(client, deal, f.contact(expected_version=5)),
                          409, "version_conflict")
    assert err["details"]["actual_version"] == 1
    assert post(client, deal, f.contact(expected_version=1)).status_code == 201


def test_same_event_id_same_content_is_200_with_original(client, engine, deal):
    body = {**f.contact(), "event_id": str(uuid.uuid4())}
    first = post(client, deal, body)
    before = log_size(engine)
    again = post(client, deal, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and log_size(engine) == before


def test_same_event_id_for_created_is_idempotent(client, deal_id):
    body = {**f.created(), "event_id": str(uuid.uuid4())}
    assert post(client, deal_id, body).status_code == 201
    assert post(client, deal_id, body).status_code == 200


def test_same_event_id_other_content_is_409(client, engine, deal):
    event_id = str(uuid.uuid4())
    assert post(client, deal, {**f.contact("call"), "event_id": event_id}).status_code == 201
    assert_rejected(client, engine, lambda: post(client, deal, {**f.contact("email"), "event_id": event_id}),
                    409, "idempotency_conflict")


def test_void_marks_event_as_never_happened(client, engine, deal):
    moved = post(client, deal, f.moved("lead", "contacted")).json()
    assert client.get(f"/v1/deals/{deal}").json()["stage"] == "contacted"
    void = {"type": "event.voided", "data": {"event_id": moved["event_id"], "reason": "wrong deal"}}
    assert post(client, deal, void).status_code == 201
    state = client.get(f"/v1/deals/{deal}").json()
    assert state["stage"] == "lead" and state["version"] == 3
    assert_rejected(client, engine, lambda: post(client, deal, void), 409, "void_conflict")
    assert len(client.get(f"/v1/deals/{deal}/events").json()["events"]) == 3


def test_void_of_foreign_event_is_404(client, engine, deal, deal_id):
    other = f"{deal_id}-other"
    foreign = post(client, other, f.created()).json()["event_id"]
    void = {"type": "event.voided", "data": {"event_id": foreign, "reason": "x"}}
    assert_rejected(client, engine, lambda: post(client, deal, void), 404, "event_not_found")


def test_as_of_rebuilds_state_from_recorded_time(client, deal):
    first = client.get(f"/v1/deals/{deal}").json()
    assert post(client, deal, f.moved("lead", "contacted")).status_code == 201
    as_of = first["created_at"]
    then = client.get(f"/v1/deals/{deal}", params={"as_of": as_of}).json()
    assert then["stage"] == "lead" and then["version"] == 1
    assert client.get(f"/v1/deals/{deal}").json()["stage"] == "contacted"
    before = client.get(f"/v1/deals/{deal}", params={"as_of": "2000-01-01T00:00:00Z"})
    assert before.status_code == 404


def test_stream_read_and_hash_chain(client, deal):
    post(client, deal, f.contact())
    events = client.get(f"/v1/deals/{deal}/events").json()["events"]
    assert [e["stream_version"] for e in events] == [1, 2]
    assert events[0]["prev_hash"] == "0" * 64 and events[1]["prev_hash"] == events[0]["hash"]
    assert events[1]["correlation_id"] and events[1]["actor"].startswith("test-admin-")


def test_unknown_deal_read_is_404(client, deal_id):
    for path in (f"/v1/deals/{deal_id}", f"/v1/deals/{deal_id}/events"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "deal_not_found"


def test_correlation_and_causation_headers_are_recorded(client, deal):
    post(client, deal, f.contact(), **{"X-Correlation-ID": "corr-1", "X-Causation-ID": "cause-1"})
    last = client.get(f"/v1/deals/{deal}/events").json()["events"][-1]
    assert (last["correlation_id"], last["causation_id"]) == ("corr-1", "cause-1")


def test_amounts_keep_their_precision(client, deal):
    r = client.post(f"/v1/deals/{deal}/events", headers={"content-type": "application/json"},
                    content=json.dumps({"type": "deal.quote_issued"})[:-1]
                    + ', "data": {"quote_id": "q", "amount": 12345678901234.1234, "currency": "USD"}}')
    assert r.status_code == 201, r.text
    assert client.get(f"/v1/deals/{deal}").json()["latest_quote_amount"] == "12345678901234.1234"


def test_openapi_documents_the_event_union(client):
    spec = client.get("/openapi.json").json()
    post_op = spec["paths"]["/v1/deals/{deal_id}/events"]["post"]
    assert "examples" in post_op["requestBody"]["content"]["application/json"]
    assert "DealSignedIn" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_metrics_count_appends_rejections_and_lag(client, deal):
    post(client, deal, f.moved("proposal", "lead"))
    text = client.get("/metrics").text
    assert 'dealtrail_events_appended_total{type="deal.created"}' in text
    assert 'dealtrail_events_rejected_total{code="stage_conflict"}' in text
    assert "dealtrail_relay_events_behind" in text and "dealtrail_log_head_position" in text


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    relay = client.get("/v1/projections").json()["relay"]
    assert relay["head_position"] >= relay["position"] and relay["events_behind"] >= 0
