"""Issue 23, finding 10: input docs/api.md does not allow is a 422 that writes nothing (each of
these was accepted), by both front doors of the single append; `stalled=false` filters; a body
without Content-Type is read as JSON, as docs/api.md says."""
import json

import pytest

from tests import factories as f
from tests.integration.helpers import assert_error, assert_writes_nothing, post
from tests.integration.projection_helpers import History, api, project_all

LANE, ROUTE = "application/json", "application/vnd.dealtrail+json"  # the lean lane; the declared route


@pytest.fixture()
def deal(client, deal_id):
    assert post(client, deal_id, f.created()).status_code == 201
    return deal_id


def _send(client, deal_id, body: str, media: str):
    return client.post(f"/v1/deals/{deal_id}/events", content=body.encode(), headers={"content-type": media})


DUPLICATES = [
    '{"type": "deal.contact_logged", "type": "deal.created", "data": {"channel": "call"}}',
    '{"type": "deal.contact_logged", "data": {"channel": "call", "channel" : "email"}}',
    '{"type": "deal.contact_logged", "data": {"channel": "call"}, "data": {"channel": "email"}}',
    '{"type": "deal.updated", "data": {"fields": {"a": 1, "a": 2}}}',
]


@pytest.mark.parametrize("media", [LANE, ROUTE])
@pytest.mark.parametrize("body", DUPLICATES)
def test_a_duplicated_key_at_any_level_is_422(client, engine, deal, body, media):
    error = assert_writes_nothing(engine, lambda: _send(client, deal, body, media), 422, "validation_error")
    assert error["details"]["errors"][0]["type"] == "duplicate_key" and "more than once" in error["message"]


def test_a_duplicated_type_does_not_create_a_deal(client, engine, deal_id):
    body = ('{"type": "deal.contact_logged", "data": %s, "type": "deal.created"}'
            % f.created()["data"]).replace("'", '"')
    assert_writes_nothing(engine, lambda: _send(client, deal_id, body, LANE), 422, "validation_error")
    assert client.get(f"/v1/deals/{deal_id}").status_code == 404


def test_duplicated_keys_in_batch_and_loop_bodies_are_422(client, engine, deal):
    batch = '{"events": [{"deal_id": "%s", "type": "deal.contact_logged", "data": {"channel": "call"}, ' \
            '"deal_id": "other"}]}' % deal
    target = '{"scope": "rep", "scope_id": "r1", "period": "2026-11", "metric": "deals_won", "value": 1, "value": 2}'
    for path, body in (("/v1/events/batch", batch), ("/v1/targets", target)):
        assert_writes_nothing(engine, lambda path=path, body=body: client.post(path, content=body.encode(),
                                                                               headers={"content-type": LANE}),
                              422, "validation_error")


@pytest.mark.parametrize("media", [LANE, ROUTE])
def test_a_key_spelled_inside_a_string_is_no_duplicate(client, deal, media):
    """`\\":` in a string looks like a key's end to the quick count; the exact check accepts it."""
    body = '{"type": "deal.contact_logged", "data": {"channel": "call", "summary": "a\\": \\"channel\\": b"}}'
    assert _send(client, deal, body, media).status_code == 201


@pytest.mark.parametrize("media", [LANE, ROUTE])
@pytest.mark.parametrize("version", ["true", "false", '"2"', "2.0", "1e0"])
def test_expected_version_must_be_an_integer(client, engine, deal, version, media):
    body = '{"type": "deal.contact_logged", "expected_version": %s, "data": {"channel": "call"}}' % version
    assert_writes_nothing(engine, lambda: _send(client, deal, body, media), 422, "validation_error")


@pytest.mark.parametrize("field, value", [("duration_minutes", "true"), ("duration_minutes", '"30"')])
def test_counts_must_be_integers(client, engine, deal, field, value):
    body = '{"type": "deal.contact_logged", "data": {"channel": "call", "%s": %s}}' % (field, value)
    for media in (LANE, ROUTE):
        assert_writes_nothing(engine, lambda media=media: _send(client, deal, body, media), 422, "validation_error")


def test_target_versions_and_stall_days_must_be_integers(client, engine):
    target = {"scope": "rep", "scope_id": "r-strict", "period": "2026-11", "metric": "deals_won", "value": 1}
    for version in (True, "1"):
        assert_writes_nothing(engine,
                              lambda version=version: client.post("/v1/targets",
                                                                  json={**target, "expected_version": version}),
                              422, "validation_error")
    stage = {"key": "lead", "probability": "0.1", "stall_after_days": "7"}
    assert_writes_nothing(engine, lambda: client.put("/v1/pipelines/strict", json={"stages": [stage]}),
                          422, "validation_error")


NOT_PLAIN = [" 1 ", "1_000", "\u0661\u0660\u0660", "1e3", "+1", "1.", ".5", "\uff11"]


@pytest.mark.parametrize("media", [LANE, ROUTE])
@pytest.mark.parametrize("amount", NOT_PLAIN)
def test_amounts_are_plain_ascii_decimals(client, engine, deal, amount, media):
    body = f.signed(amount=amount)
    error = assert_writes_nothing(engine, lambda: _send(client, deal, json.dumps(body), media), 422, "validation_error")
    assert "plain decimal" in error["message"]


def test_plain_decimals_in_other_bodies(client, engine):
    target = {"scope": "rep", "scope_id": "r-plain", "period": "2026-11", "metric": "revenue"}
    assert_writes_nothing(engine, lambda: client.post("/v1/targets", json={**target, "value": "1_000"}),
                          422, "validation_error")
    assert_writes_nothing(engine, lambda: client.put("/v1/pipelines/plain", json={"stages": [
        {"key": "lead", "probability": " 0.5"}]}), 422, "validation_error")
    assert client.post("/v1/targets", json={**target, "value": "1000.50"}).status_code == 201
    assert client.post("/v1/targets", json={**target, "value": 1000, "expected_version": 1}).status_code == 201


@pytest.mark.parametrize("media", [LANE, ROUTE])
def test_an_amount_needs_its_currency_at_creation(client, engine, deal_id, media):
    body = f.created()
    del body["data"]["currency"]
    error = assert_writes_nothing(engine, lambda: _send(client, deal_id, json.dumps(body), media),
                                  422, "validation_error")
    assert "currency" in error["message"]
    del body["data"]["expected_amount"]  # no amount, no currency: fine
    assert _send(client, deal_id, json.dumps(body), media).status_code == 201


@pytest.mark.parametrize("media", [LANE, ROUTE])
def test_an_underflowing_float_is_422_not_zero(client, engine, deal, media):
    body = '{"type": "deal.updated", "data": {"fields": {"tiny": 1e-400}}}'
    error = assert_writes_nothing(engine, lambda: _send(client, deal, body, media), 422, "validation_error")
    assert "too small for a float" in error["message"]


def test_stalled_false_lists_the_deals_not_stalled(fresh_engine):
    h = History(fresh_engine)
    h.create("old", 0)  # January 2026, in lead ever since: stalled
    h.create("won", 0)
    h.sign("won", 1)
    with api(fresh_engine) as client:
        assert post(client, "new", f.created()).status_code == 201  # occurred now: not stalled
        project_all(fresh_engine)
        ids = {flag: [d["deal_id"] for d in client.get("/v1/deals", params=params).json()["deals"]]
               for flag, params in (("all", {}), ("true", {"stalled": "true"}), ("false", {"stalled": "false"}))}
    assert ids == {"all": ["new", "old", "won"], "true": ["old"], "false": ["new", "won"]}


def test_a_body_without_content_type_is_read_as_json(client, deal_id):
    request = client.build_request("POST", f"/v1/deals/{deal_id}/events", content=json.dumps(f.created()).encode())
    assert "content-type" not in request.headers
    response = client.send(request)
    assert response.status_code == 201, response.text
    target = {"scope": "rep", "scope_id": "r-no-type", "period": "2026-11", "metric": "deals_won", "value": 1}
    request = client.build_request("POST", "/v1/targets", content=json.dumps(target).encode())
    assert "content-type" not in request.headers and client.send(request).status_code == 201
    duplicated = client.build_request("POST", f"/v1/deals/{deal_id}/events",
                                      content=b'{"type": "deal.contact_logged", "type": "x", "data": {}}')
    assert_error(client.send(duplicated), 422, "validation_error")
