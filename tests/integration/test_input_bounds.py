"""Issue 7, findings 1 and 4: every period, date, timestamp, number and text is validated at
the API to what the code can handle (422, nothing written) instead of poisoning the log or
answering 500."""
import pytest

from infra.db import make_engine
from projections.read_models import SALES
from projections.runtime import rebuild
from tests import factories as f
from tests.integration.helpers import assert_error, assert_writes_nothing, post
from tests.integration.projection_helpers import api, project_all
from tests.owners import owner_url

TARGET = {"scope": "rep", "scope_id": "rep-bounds", "metric": "deals_won", "value": 3}
REVIEW = {"scope": "rep", "scope_id": "rep-bounds", "metric": "deals_won", "expected": 3, "actual": 1}
OUT_OF_RANGE_PERIODS = ["0000", "0001", "1969", "1969-12", "9999", "9999-12", "9999-Q4"]


@pytest.fixture()
def deal(client, deal_id):
    assert post(client, deal_id, f.created()).status_code == 201
    return deal_id


@pytest.mark.parametrize("period", OUT_OF_RANGE_PERIODS)
def test_target_period_out_of_range_is_422(client, engine, period):
    assert_writes_nothing(engine, lambda: client.post("/v1/targets", json={**TARGET, "period": period}),
                          422, "validation_error")


@pytest.mark.parametrize("period", OUT_OF_RANGE_PERIODS)
def test_review_period_out_of_range_is_422(client, engine, period):
    assert_writes_nothing(engine, lambda: client.post("/v1/reviews", json={**REVIEW, "period": period}),
                          422, "validation_error")
    assert client.get("/v1/reviews").status_code == 200


def test_periods_at_the_edges_are_accepted(client):
    for period in ("1970", "1970-01", "9998-12", "9998-Q4", "9998"):
        r = client.post("/v1/targets", json={**TARGET, "period": period})
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("event", [
    f.created(expected_close_date="0001-01-01"),
    f.created(expected_close_date="9999-12-31"),
    {"type": "deal.quote_issued", "data": {"quote_id": "q", "amount": "1", "currency": "USD",
                                           "valid_until": "0001-01-01"}},
    f.contact(occurred_at="0001-01-01T00:00:00+14:00"),
    f.contact(occurred_at="1969-12-31T23:59:59Z"),
    f.contact(occurred_at="2026-01-01T00:00:00+16:00"),
    f.contact(occurred_at=1700000000),
    f.contact(occurred_at="1700000000"),
    {"type": "deal.contact_logged", "data": {"channel": "call", "duration_minutes": 10**30}},
    {"type": "deal.quote_issued", "data": {"quote_id": "q", "amount": "1e30", "currency": "USD"}},
    {"type": "deal.quote_issued", "data": {"quote_id": "q", "amount": "NaN", "currency": "USD"}},
    {"type": "deal.feedback_recorded", "data": {"score": 6}},
])
def test_event_values_out_of_range_are_422(client, engine, deal, event):
    assert_writes_nothing(engine, lambda: post(client, deal, event), 422, "validation_error")


def test_review_action_due_date_out_of_range_is_422(client, engine):
    review = client.post("/v1/reviews", json={**REVIEW, "period": "2026-11"}).json()["deal_id"]
    review_id = review.removeprefix("review:")
    action = {"title": "call back", "owner_id": "rep-1", "due_date": "0001-01-01"}
    assert_writes_nothing(engine, lambda: client.post(f"/v1/reviews/{review_id}/actions", json=action),
                          422, "validation_error")


def test_huge_json_integer_is_422(client, engine, deal):
    body = b'{"type": "deal.contact_logged", "data": {"channel": "call", "duration_minutes": 1' + b"0" * 5000 + b"}}"
    assert_writes_nothing(engine, lambda: client.post(f"/v1/deals/{deal}/events", content=body,
                                                      headers={"content-type": "application/json"}),
                          422, "validation_error")


@pytest.mark.parametrize("event", [
    f.created(title="ACME\u0000"),
    f.created(owner_id="rep\u0000"),
    f.created(customer={"id": "c1", "name": "A\u0000B"}),
])
def test_nul_in_body_text_is_422(client, engine, deal_id, event):
    assert_writes_nothing(engine, lambda: post(client, deal_id, event), 422, "validation_error")


@pytest.mark.parametrize("event", [
    {"type": "deal.contact_logged", "data": {"channel": "call", "summary": "hello\u0000"}},
    {"type": "deal.lost", "data": {"reason": "price", "notes": "\u0000"}},
    {"type": "deal.quote_issued", "data": {"quote_id": "q\u0000", "amount": "1", "currency": "USD"}},
])
def test_nul_in_event_text_is_422(client, engine, deal, event):
    assert_writes_nothing(engine, lambda: post(client, deal, event), 422, "validation_error")


def test_lone_surrogate_in_body_text_is_422(client, engine, deal_id):
    body = b'{"type": "deal.created", "data": {"title": "x\\ud800", "customer": {"id": "c", "name": "n"}, ' \
           b'"owner_id": "r"}}'
    assert_writes_nothing(engine, lambda: client.post(f"/v1/deals/{deal_id}/events", content=body,
                                                      headers={"content-type": "application/json"}),
                          422, "validation_error")


def test_nul_in_loop_bodies_is_422(client, engine):
    assert_writes_nothing(engine, lambda: client.post("/v1/targets", json={**TARGET, "period": "2026-11",
                                                                           "scope_id": "r\u0000"}),
                          422, "validation_error")
    assert_writes_nothing(engine, lambda: client.post("/v1/reviews", json={**REVIEW, "period": "2026-11",
                                                                           "notes": "a\u0000"}),
                          422, "validation_error")


@pytest.mark.parametrize("path, params", [
    ("/v1/targets", {"period": "K\u0000Q"}),
    ("/v1/targets", {"scope_id": "r\u0000"}),
    ("/v1/deals", {"owner_id": "r\u0000"}),
    ("/v1/deals", {"stage": "\u0000"}),
    ("/v1/deals", {"team_id": "t\u0000"}),
    ("/v1/deals", {"cursor": "\u0000"}),
    ("/v1/reports/funnel", {"segment": "s\u0000"}),
    ("/v1/reports/funnel", {"pipeline": "default\u0000"}),
    ("/v1/reports/cycle-time", {"owner_id": "\u0000"}),
    ("/v1/reports/forecast", {"scope": "rep", "scope_id": "r\u0000"}),
])
def test_nul_in_query_filters_is_422(client, path, params):
    assert_error(client.get(path, params=params), 422, "validation_error")


@pytest.mark.parametrize("path, params", [
    ("/v1/reports/forecast", {"period": "0000"}),
    ("/v1/reports/forecast", {"period": "9999-12"}),
    ("/v1/reports/performance", {"period": "0000"}),
    ("/v1/reports/performance", {"period": "9999"}),
    ("/v1/targets", {"period": "0000-13"}),
    ("/v1/reports/funnel", {"to": "0.5"}),
    ("/v1/reports/funnel", {"from": "1700000000"}),
    ("/v1/reports/funnel", {"mode": "snapshot", "at": "12"}),
    ("/v1/reports/funnel", {"as_of": "1969-12-31T00:00:00Z"}),
    ("/v1/reports/funnel", {"as_of": "0001-01-01T00:00:00+14:00"}),
    ("/v1/reports/funnel", {"from": "0001-01-01T00:00:00+14:00"}),
    ("/v1/reports/funnel", {"to": "2026-01-01T00:00:00"}),
    ("/v1/reports/cycle-time", {"from": "0001-01-01T00:00:00+14:00"}),
    ("/v1/reports/cycle-time", {"to": "9999-12-31T23:59:59-14:00"}),
    ("/v1/reports/performance", {"period": "2026-11", "as_of": "1960-01-01T00:00:00Z"}),
])
def test_out_of_range_query_values_are_422(client, path, params):
    assert_error(client.get(path, params=params), 422, "validation_error")


def test_deal_as_of_out_of_range_is_422(client, deal):
    for as_of in ("1969-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "0.5", "2000-01-01T00:00:00+16:00"):
        assert_error(client.get(f"/v1/deals/{deal}", params={"as_of": as_of}), 422, "validation_error")


def test_forecast_scope_without_scope_id_covers_every_rep(client):
    for scope in ("rep", "team"):
        r = client.get("/v1/reports/forecast", params={"scope": scope})
        assert r.status_code == 200, r.text
        assert r.json()["scope"] == scope and r.json()["scope_id"] is None


def test_values_at_the_edges_project_rebuild_and_report(fresh_engine):
    """What the API accepts at the edges of its ranges, the projections and reports can handle."""
    edge = api(fresh_engine)
    for period in ("1970", "9998-12", "9998-Q4", "9998"):
        assert edge.post("/v1/targets", json={**TARGET, "period": period}).status_code == 201
    review = edge.post("/v1/reviews", json={**REVIEW, "period": "9998-12", "expected": "123456789012345678.123456",
                                            "actual": "-123456789012345678.123456"})
    review_id = review.json()["deal_id"].removeprefix("review:")
    assert edge.post(f"/v1/reviews/{review_id}/actions", json={"title": "t", "owner_id": "r",
                                                               "due_date": "9998-12-31"}).status_code == 201
    events = [f.created(expected_close_date="9998-12-31", expected_amount="9999999999999999.9999") | {
                  "occurred_at": "1970-01-01T00:00:00+00:00"},
              {"type": "deal.quote_issued", "occurred_at": "1970-01-01T15:00:00+14:00", "data": {
                  "quote_id": "q", "amount": "9999999999999999.9999", "currency": "USD", "valid_until": "9998-12-31"}},
              {"type": "deal.contact_logged", "data": {"channel": "call", "duration_minutes": 100000}},
              {"type": "deal.signed", "data": {"amount": "9999999999999999.9999", "currency": "USD"}}]
    for event in events:
        assert post(edge, "edge-deal", event).status_code == 201
    project_all(fresh_engine)
    owner = make_engine(owner_url(fresh_engine))  # rebuild swaps tables
    rebuild.rebuild(SALES, owner)
    owner.dispose()
    for path, params in (("/v1/reviews", {}), ("/v1/targets", {}), ("/v1/reports/performance", {"period": "1970"}),
                         ("/v1/reports/forecast", {"period": "9998-12"}),
                         ("/v1/reports/funnel", {"from": "1970-01-01T00:00:00Z", "to": "9998-12-31T23:59:59Z"})):
        assert edge.get(path, params=params).status_code == 200, (path, params)
    far = edge.get("/v1/reports/cycle-time", params={"as_of": "9998-12-31T23:59:59Z"})
    assert far.status_code == 422 and far.json()["error"]["code"] == "invalid_query"  # later than any event
