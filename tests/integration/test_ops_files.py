"""The operations files say what they claim: infra/docker-compose.yml is valid (Debian's
`docker-compose config` parses and resolves it without an engine; `make test` installs it via
.ci/test-tools) and runs the watcher, API replicas behind one published port and two workers;
the Grafana dashboard queries only metrics the API really exports."""
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import yaml

INFRA = Path(__file__).resolve().parents[2] / "infra"


def compose_config() -> dict:
    tool = shutil.which("docker-compose")
    assert tool, "install Debian's docker-compose (make test does: .ci/test-tools)"
    done = subprocess.run([tool, "-f", str(INFRA / "docker-compose.yml"), "config"], capture_output=True,
                          text=True, timeout=60, cwd=INFRA)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_runs_every_service_and_scales_the_api_behind_one_port():
    services = compose_config()["services"]
    assert {"postgres", "kafka", "migrate", "api", "proxy", "relay", "worker", "watch"} <= set(services)
    assert services["watch"]["command"] == ["watch"] and services["relay"]["command"] == ["relay"]
    assert services["worker"]["command"] == ["project"] and services["worker"]["deploy"]["replicas"] == 2
    assert "ports" not in services["api"]  # `--scale api=N` cannot collide on a host port
    published = [s for s in services.values() if s.get("ports")]
    assert [name for name, s in services.items() if s.get("ports")] == ["proxy"] and len(published[0]["ports"]) == 1
    assert "api" in (INFRA / "nginx.conf").read_text() and "proxy_buffering off" in (INFRA / "nginx.conf").read_text()
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    for name in ("api", "relay", "worker", "watch"):  # services log in as the app role, never the owner
        assert services[name]["environment"]["DEALTRAIL_APP_DATABASE_URL"].startswith("postgresql://dealtrail_app:")


def test_the_grafana_dashboard_queries_only_exported_metrics(client):
    deal = f"graf-{uuid.uuid4().hex[:8]}"
    created = {"type": "deal.created", "data": {"title": "g", "customer": {"id": "c", "name": "C"}, "owner_id": "r1"}}
    assert client.post(f"/v1/deals/{deal}/events", json=created).status_code == 201
    assert client.post(f"/v1/deals/{deal}/events", json=created).status_code == 409  # a rejection
    scraped = client.get("/metrics")
    assert scraped.status_code == 200
    exported = set(re.findall(r"^(dealtrail_[a-z_]+)", scraped.text, re.M))
    dashboard = json.loads((INFRA / "grafana" / "dealtrail.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\b(dealtrail_[a-z_]+)", expr)}
    assert len(dashboard["panels"]) >= 8 and used
    assert used <= exported, used - exported
    titles = " ".join(panel["title"].lower() for panel in dashboard["panels"])
    for topic in ("appends", "latency", "relay lag", "projection lag", "errors"):
        assert topic in titles, topic
