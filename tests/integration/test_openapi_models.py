"""The OpenAPI document is typed and true: every JSON success response has a schema, the real
answers on demo data validate against the documented models, errors are documented with the real
error model (no FastAPI `{detail: [...]}`), every parameter is described, and /docs and /redoc load
their assets from this server only."""
import re

from pydantic import TypeAdapter

from services.api.plumbing import read_models_out as out
from services.demo import generate
from tests.integration.projection_helpers import DEMO_END, project_all

READS = [
    ("/v1/reports/funnel", {}, out.FunnelCohortOut),
    ("/v1/reports/funnel", {"mode": "snapshot"}, out.FunnelSnapshotOut),
    ("/v1/reports/cycle-time", {"outcome": "won"}, out.CycleTimeOut),
    ("/v1/reports/cycle-time", {"outcome": "lost"}, out.CycleTimeOut),
    ("/v1/reports/performance", {"period": "2026", "scope": "rep"}, out.PerformanceOut),
    ("/v1/reports/performance", {"period": "2026", "scope": "team"}, out.PerformanceOut),
    ("/v1/reports/forecast", {}, out.ForecastOut),
    ("/v1/targets", {}, out.TargetsOut),
    ("/v1/reviews", {}, out.ReviewsOut),
    ("/v1/pipelines", {}, out.PipelinesOut),
    ("/v1/audit/verify", {}, out.VerifyOut),
    ("/v1/projections", {}, out.ProjectionsOut),
    ("/healthz", {}, out.HealthOut),
]


def test_real_answers_validate_against_the_documented_models(client, engine):
    assert client.post("/v1/events/batch", json={"events": list(generate(40, 11, DEMO_END))}).status_code == 201
    client.post("/v1/targets", json={"scope": "company", "period": "2026", "metric": "revenue", "value": "1000"})
    project_all(engine)
    for path, params, model in READS:
        response = client.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        model.model_validate(body)
        documented = client.app.openapi()["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert documented["schema"], path
    rows = client.get("/v1/reports/performance", params={"period": "2026"}).json()["rows"]
    assert rows and TypeAdapter(list[out.PerformanceRow]).validate_python(rows)


def test_the_document_is_typed_described_and_uses_the_real_error_model(client):
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(spec) and "ValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), (method, path, parameter["name"])
            success = operation["responses"].get("200") or operation["responses"].get("201")
            assert success and success.get("content"), (method, path)
            for code, response in operation["responses"].items():
                if code.startswith("4") and "application/json" in response.get("content", {}):
                    assert response["content"]["application/json"]["schema"] == \
                        {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)
    codes = {code for operations in spec["paths"].values() for op in operations.values() for code in op["responses"]}
    assert {"401", "403", "404", "409", "413", "422"} <= codes


def test_docs_and_redoc_load_their_assets_from_this_server(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert not re.findall(r"https?://", html), page
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert client.get(asset).status_code == 200, asset
