"""Frontends can generate typed clients from the OpenAPI document: TypeScript types with
openapi-typescript (clients/ts, pinned in its package-lock) type-check a small client under
`tsc --strict`, and Python models generated with datamodel-code-generator parse the API's real
answers (a deal page, a funnel, an append, an error)."""
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.projection_helpers import project_all

TS = Path(__file__).resolve().parents[2] / "clients" / "ts"


@pytest.fixture(scope="module")
def ts_tools() -> Path:
    """clients/ts/node_modules, installed from the lockfile when missing (npm registry)."""
    npm = shutil.which("npm")
    assert npm, "node and npm are needed for the TypeScript client check"
    if not (TS / "node_modules" / ".bin" / "tsc").exists():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=TS, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return TS / "node_modules" / ".bin"


def openapi(client, where: Path) -> Path:
    path = where / "openapi.json"
    path.write_text(json.dumps(client.get("/openapi.json").json()))
    return path


def tsc(tools: Path, build: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(tools / "tsc"), "--noEmit", "--strict", "--target", "es2022", "--lib", "es2022,dom",
                           "--module", "es2022", "--moduleResolution", "bundler", str(build / "usage.ts")],
                          capture_output=True, text=True, timeout=120)


def test_a_typescript_client_type_checks_against_the_generated_types(client, ts_tools, tmp_path):
    spec = openapi(client, tmp_path)
    generated = subprocess.run([str(ts_tools / "openapi-typescript"), str(spec), "-o", str(tmp_path / "schema.d.ts")],
                               capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0, generated.stderr
    shutil.copy(TS / "usage.ts", tmp_path / "usage.ts")
    checked = tsc(ts_tools, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with open(tmp_path / "usage.ts", "a") as usage:  # the check is live: a wrongly typed use fails it
        usage.write('\nexport const wrong: Schemas["FunnelCohortOut"]["created"] = "many";\n')
    assert tsc(ts_tools, tmp_path).returncode != 0


def test_generated_python_models_parse_the_real_answers(client, engine, tmp_path):
    spec = openapi(client, tmp_path)
    target = tmp_path / "dealtrail_models.py"
    generated = subprocess.run([sys.executable, "-m", "datamodel_code_generator", "--input", str(spec),
                                "--input-file-type", "openapi", "--output", str(target),
                                "--output-model-type", "pydantic_v2.BaseModel", "--use-annotated"],
                               capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0, generated.stderr
    module_spec = importlib.util.spec_from_file_location("dealtrail_models", target)
    models = importlib.util.module_from_spec(module_spec)
    sys.modules["dealtrail_models"] = models  # pydantic resolves the generated annotations through it
    try:
        module_spec.loader.exec_module(models)
    finally:
        sys.modules.pop("dealtrail_models", None)
    created = client.post("/v1/deals/gen-1/events", json={"type": "deal.created", "data": {
        "title": "Generated", "customer": {"id": "c-gen", "name": "Gen"}, "owner_id": "rep-1"}})
    assert created.status_code == 201
    project_all(engine)
    appended = models.AppendOut.model_validate(created.json())
    assert appended.stream_version == 1
    page = models.DealPageOut.model_validate(client.get("/v1/deals", params={"limit": 5}).json())
    assert page.total >= 1
    funnel = models.FunnelCohortOut.model_validate(client.get("/v1/reports/funnel").json())
    assert funnel.created >= 1 and funnel.stages[0].stage == "lead"
    missing = client.get("/v1/deals/gen-missing")
    assert models.ErrorOut.model_validate(missing.json()).error.code.value == "deal_not_found"  # an enum
