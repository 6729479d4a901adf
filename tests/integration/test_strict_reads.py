"""Strict inputs on reads (issue 8 item 6): unknown parameters, unknown filter values, malformed
cursors, bad sorts and amounts answer 422 with the error shape, naming the parameter."""
import base64
import json

import pytest

from tests.integration.helpers import assert_error


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path, params", [
    ("/v1/deals", {"stauts": "open"}),
    ("/v1/deals", {"status": "open", "owner": "r1"}),
    ("/v1/deals/no-such-deal", {"asof": "2026-01-01T00:00:00Z"}),
    ("/v1/deals/no-such-deal/events", {"after": "1"}),
    ("/v1/events", {"since": "0"}),
    ("/v1/reports/funnel", {"mode": "cohort", "teams": "t1"}),
    ("/v1/reports/cycle-time", {"outcomes": "won"}),
    ("/v1/reports/performance", {"period": "2026-01", "scope_id": "r1"}),
    ("/v1/reports/forecast", {"asof": "2026-01-01T00:00:00Z"}),
    ("/v1/targets", {"owner_id": "r1"}),
    ("/v1/reviews", {"owner_id": "r1"}),
    ("/v1/reviews/no-such-review", {"x": "1"}),
    ("/v1/pipelines", {"pipeline": "default"}),
    ("/v1/projections", {"verbose": "true"}),
    ("/v1/audit/verify", {"deal_id": "d1"}),
    ("/healthz", {"x": ""}),
])
def test_unknown_query_parameter_is_422_naming_it(client, path, params):
    [unknown] = [name for name in params if name not in ("status", "mode", "period")]
    error = assert_error(client.get(path, params=params), 422, "validation_error")
    assert unknown in error["message"]
    assert [e["loc"] for e in error["details"]["errors"]] == [["query", unknown]]
    assert error["details"]["errors"][0]["type"] == "extra_forbidden"


def test_every_unknown_parameter_is_named(client):
    error = assert_error(client.get("/v1/deals", params={"a": "1", "b": "2"}), 422, "validation_error")
    assert [e["loc"] for e in error["details"]["errors"]] == [["query", "a"], ["query", "b"]]


def test_repeated_parameter_is_422(client):
    error = assert_error(client.get("/v1/deals?status=open&status=won"), 422, "validation_error")
    assert error["details"]["errors"][0]["loc"] == ["query", "status"]


def test_known_parameters_still_work(client):
    assert client.get("/v1/deals", params={"status": "open", "stalled": "false", "limit": 5}).status_code == 200
    assert client.get("/v1/reports/funnel", params={"from": "2026-01-01T00:00:00Z"}).status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("stage", ["qualified", "LEAD", "lead ", "open"])
def test_unknown_stage_is_422(client, stage):
    error = assert_error(client.get("/v1/deals", params={"stage": stage}), 422, "invalid_query")
    assert error["details"]["parameter"] == "stage" and "lead" in error["details"]["known"]


@pytest.mark.parametrize("stage", ["lead", "negotiation", "won", "lost"])
def test_known_stages_are_accepted(client, stage):
    assert client.get("/v1/deals", params={"stage": stage}).status_code == 200


def test_stage_of_a_pipeline_defined_by_events_is_accepted(client):
    assert client.get("/v1/deals", params={"stage": "pilot"}).status_code == 422
    r = client.put("/v1/pipelines/strict_reads_flow", json={"stages": [{"key": "pilot", "probability": "0.3"}]})
    assert r.status_code == 201, r.text
    assert client.get("/v1/deals", params={"stage": "pilot"}).status_code == 200


@pytest.mark.parametrize("path, params", [
    ("/v1/deals", {"status": "closed"}),
    ("/v1/reviews", {"status": "pending"}),
    ("/v1/targets", {"scope": "region"}),
    ("/v1/reports/funnel", {"mode": "weekly"}),
    ("/v1/reports/cycle-time", {"outcome": "open"}),
    ("/v1/reports/performance", {"period": "2026-01", "scope": "company"}),
])
def test_unknown_enum_value_is_422(client, path, params):
    [name] = [n for n in params if n != "period"]
    error = assert_error(client.get(path, params=params), 422, "validation_error")
    assert ["query", name] in [e["loc"] for e in error["details"]["errors"]]


@pytest.mark.parametrize("cursor", [
    "garbage",                                                   # not base64 of JSON
    "d1",                                                        # an old-style raw deal id
    _cursor([1, 2, 3]),                                          # JSON, wrong shape
    _cursor({"s": "deal_id", "v": "d1"}),                        # missing the tie-break
    _cursor({"s": "-created_at", "v": "2026-01-01T00:00:00+00:00", "d": "d1"}),   # another sort
    _cursor({"s": "created_at", "v": "2026-01-01T00:00:00", "d": "d1"}),   # timestamp without zone
    _cursor({"s": "created_at", "v": "yesterday", "d": "d1"}),
    _cursor({"s": "current_amount", "v": "NaN", "d": "d1"}),
    _cursor({"s": "current_amount", "v": 12, "d": "d1"}),        # values travel as strings
    _cursor({"s": "created_at", "v": None, "d": "\u0000"}),
])
def test_malformed_cursor_is_422(client, cursor):
    sort = "current_amount" if "current_amount" in base64.urlsafe_b64decode(cursor + "==").decode(errors="replace") \
        else "created_at"
    error = assert_error(client.get("/v1/deals", params={"sort": sort, "cursor": cursor}), 422, "invalid_query")
    assert error["details"]["parameter"] == "cursor" and error["message"].startswith("cursor")


@pytest.mark.parametrize("cursor", ["a b", "x" * 1001, "abc=", "ab+c/"])
def test_cursor_outside_the_alphabet_is_422(client, cursor):
    error = assert_error(client.get("/v1/deals", params={"cursor": cursor}), 422, "validation_error")
    assert error["details"]["errors"][0]["loc"] == ["query", "cursor"]


def test_issued_cursor_is_accepted(client):
    assert client.get("/v1/deals", params={
        "sort": "created_at", "cursor": _cursor({"s": "created_at", "v": None, "d": "d1"})}).status_code == 200


@pytest.mark.parametrize("sort", ["title", "--created_at", "+created_at", "created_at,deal_id", "-"])
def test_unknown_sort_is_422(client, sort):
    error = assert_error(client.get("/v1/deals", params={"sort": sort}), 422, "validation_error")
    assert error["details"]["errors"][0]["loc"] == ["query", "sort"]


@pytest.mark.parametrize("params, name", [
    ({"min_amount": "abc"}, "min_amount"),
    ({"min_amount": "NaN"}, "min_amount"),
    ({"max_amount": "Infinity"}, "max_amount"),
    ({"min_amount": "-1"}, "min_amount"),
    ({"max_amount": "1.00001"}, "max_amount"),
    ({"created_from": "2026-01-01T00:00:00"}, "created_from"),
    ({"created_to": "yesterday"}, "created_to"),
    ({"close_from": "2026-13-01"}, "close_from"),
    ({"q": "a\u0001b"}, "q"),
    ({"q": ""}, "q"),
])
def test_malformed_filter_value_is_422(client, params, name):
    error = assert_error(client.get("/v1/deals", params=params), 422, "validation_error")
    assert error["details"]["errors"][0]["loc"] == ["query", name]


@pytest.mark.parametrize("params, name", [
    ({"min_amount": "10", "max_amount": "9.99"}, "min_amount"),
    ({"created_from": "2026-01-02T00:00:00Z", "created_to": "2026-01-02T00:00:00Z"}, "created_from"),
    ({"close_from": "2026-02-01", "close_to": "2026-01-31"}, "close_from"),
])
def test_inverted_range_is_422(client, params, name):
    error = assert_error(client.get("/v1/deals", params=params), 422, "invalid_query")
    assert error["details"]["parameter"] == name
