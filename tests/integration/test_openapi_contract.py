"""The OpenAPI document a frontend developer generates clients from (issue 24 point 5): every JSON
answer documents a model and the real answers validate against the documented JSON schema; the
bearer scheme is declared and required per operation (none on the open routes, which document no
401/403); readable operation ids; the deal-event body offers deal events only; statuses and money
typed; no answer model open to undeclared fields."""
import re

import jsonschema_rs

from events.payloads import DEAL_EVENT_TYPES
from services.demo import generate
from tests.integration.projection_helpers import DEMO_END, api, project_all

OPEN = {"/healthz", "/readyz"}
# Required query parameters of the reads that have some (the rest answer with none).
QUERIES = {"/v1/reports/performance": {"period": "2026"}, "/v1/audit/consistency": {"first": 1}}


def _operations(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _success_json(operation) -> dict | None:
    success = operation["responses"].get("200") or operation["responses"].get("201")
    return success.get("content", {}).get("application/json", {}).get("schema")


def _validator(spec, schema):
    return jsonschema_rs.validator_for({"allOf": [schema], "components": spec["components"]})


def _seed(client, engine) -> dict:
    assert client.post("/v1/events/batch", json={"events": list(generate(30, 7, DEMO_END))}).status_code == 201
    assert client.post("/v1/targets", json={"scope": "company", "period": "2026", "metric": "revenue",
                                            "value": "1000.50"}).status_code == 201
    review = client.post("/v1/reviews", json={"scope": "company", "scope_id": "company", "period": "2026-01",
                                              "metric": "revenue", "expected": "100", "actual": "50"})
    assert review.status_code == 201, review.text
    project_all(engine)
    deal_id = client.get("/v1/deals", params={"limit": 1}).json()["deals"][0]["deal_id"]
    event_id = client.get(f"/v1/deals/{deal_id}/events").json()["events"][0]["event_id"]
    return {"deal_id": deal_id, "review_id": review.json()["deal_id"].split(":")[-1], "event_id": event_id}


def test_every_json_operation_documents_a_model_and_real_answers_validate(fresh_engine):
    """On a database of its own: the demo deals' ids are those other tests post too."""
    client = api(fresh_engine)
    ids = _seed(client, fresh_engine)
    spec = client.get("/openapi.json").json()
    checked = []
    for path, method, operation in _operations(spec):
        schema = _success_json(operation)
        if schema is None:
            continue  # text/event-stream, NDJSON/CSV export: not JSON answers
        assert "$ref" in schema or "anyOf" in schema or "oneOf" in schema, (method, path, schema)
        if method != "get":
            continue
        url = path.format(**ids)
        params = dict(QUERIES.get(path, {}), **({"event_id": ids["event_id"]} if path.endswith("/proof") else {}))
        response = client.get(url, params=params)
        assert response.status_code == 200, (url, response.text)
        errors = [e.message for e in _validator(spec, schema).iter_errors(response.json())]
        assert not errors, (url, errors[:3])
        checked.append(path)
    assert {"/v1/deals/{deal_id}", "/v1/deals/{deal_id}/timeline", "/v1/targets", "/v1/reviews",
            "/v1/pipelines", "/healthz"} <= set(checked)


def test_the_documented_schema_rejects_a_wrong_answer(client):
    """The validation above is live: a deal whose status is not a status fails it."""
    spec = client.get("/openapi.json").json()
    schema = _success_json(spec["paths"]["/v1/deals/{deal_id}"]["get"])
    assert not _validator(spec, schema).is_valid({"deal_id": "x", "status": "maybe"})


def test_bearer_security_is_declared_per_operation(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"] == {"bearerAuth": {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["bearerAuth"][
            "description"]}}
    for path, method, operation in _operations(spec):
        if path in OPEN:
            assert operation["security"] == [], path
            assert not {"401", "403"} & set(operation["responses"]), path
        else:
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
    assert "503" in spec["paths"]["/readyz"]["get"]["responses"]
    assert not [p for p, m, o in _operations(spec) if "503" in o["responses"] and p != "/readyz"]


def test_operation_ids_are_readable(client):
    spec = client.get("/openapi.json").json()
    ids = [operation["operationId"] for _, _, operation in _operations(spec)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", i) for i in ids), ids
    named = {(m, p): o["operationId"] for p, m, o in _operations(spec)}
    assert named[("post", "/v1/deals/{deal_id}/events")] == "appendDealEvent"
    assert named[("get", "/v1/deals")] == "listDeals" and named[("get", "/v1/deals/{deal_id}")] == "getDeal"


def test_the_deal_event_body_offers_deal_events_only(client, engine):
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/deals/{deal_id}/events"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["schema"]["discriminator"]["mapping"]) == DEAL_EVENT_TYPES
    refused = client.post("/v1/deals/loop-1/events", json={"type": "target.set", "data": {
        "scope": "company", "scope_id": "company", "period": "2026", "metric": "revenue", "value": "1"}})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error"
    assert client.get("/v1/deals/loop-1/events").status_code == 404  # nothing written


def test_statuses_are_enums_and_target_money_is_a_decimal_string(client, engine):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    def values(model, field):
        prop = schemas[model]["properties"][field]
        return {v for option in prop.get("anyOf", [prop]) for v in option.get("enum", [])}
    assert values("HealthOut", "status") == {"ok", "ready", "unavailable"}
    assert values("TargetRow", "status") == {"on_track", "at_risk", "behind"}
    assert values("ReviewRow", "status") == {"open", "closed"}
    assert values("DealOut", "status") == {"open", "won", "lost"}
    for field in ("target", "actual", "pace"):
        assert {o.get("type") for o in schemas["TargetRow"]["properties"][field]["anyOf"]} == {"string", "null"}
    assert client.post("/v1/targets", json={"scope": "company", "period": "2031", "metric": "revenue",
                                            "value": "1000.50"}).status_code == 201
    project_all(engine)
    [row] = client.get("/v1/targets", params={"period": "2031"}).json()["targets"]
    assert row["target"] == "1000.50" and isinstance(row["actual"], str) and isinstance(row["pace"], str)


def test_no_answer_model_admits_undeclared_fields(client):
    """Every model an answer refers to (transitively) lists its fields and declares no
    `additionalProperties` (free-form maps without `properties`, such as custom fields, are maps)."""
    spec = client.get("/openapi.json").json()
    schemas, seen = spec["components"]["schemas"], set()
    pending = [s for _, _, o in _operations(spec) for s in [_success_json(o)] if s]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "").removeprefix("#/components/schemas/")
            if ref and ref not in seen:
                seen.add(ref)
                pending.append(schemas[ref])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    assert {"DealOut", "TimelineOut", "TargetRow", "PipelineOut", "HealthOut"} <= seen
    open_ended = [name for name in seen if "additionalProperties" in schemas[name]]
    assert open_ended == []


def test_no_answer_lists_untyped_objects(client):
    """A list in an answer lists typed items (GET /v1/deals' deals were `object` before: a generated
    client got `{[key: string]: unknown}[]`); deal rows are typed from deal_current's declaration."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    untyped = [(name, prop) for name, schema in schemas.items() for prop, spec in schema.get("properties", {}).items()
               if spec.get("type") == "array" and spec.get("items", {}).get("type") == "object"
               and "properties" not in spec["items"]]
    assert not untyped, untyped
    row = schemas["DealRowOut"]["properties"]
    assert row["expected_amount"]["anyOf"][0] == {"type": "string"}  # money as a decimal string
    assert row["created_at"]["anyOf"][0] == {"type": "string", "format": "date-time"}
    assert row["stalled"]["type"] == "boolean" and row["deal_id"]["type"] == "string"
