"""Attribution (issue 23, finding 9): key names are never reused (409 `key_name_taken`, API and
CLI, enforced by a unique index); each event records the id of the key that appended it,
shown to auditors and in every export, inside the hash; a client cannot claim the system's own
source in `X-Dealtrail-Source` (422 `reserved_source`, nothing written), through either front
door of the append."""
import json
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from events.verify import verify_chains
from infra.settings import Settings
from services import keys
from services.api.app import create_app
from services.cli import app as cli
from tests import factories as f
from tests.integration.helpers import assert_error, assert_writes_nothing, post
from tests.integration.test_immutability import owner_conn
from tests.keys import bearer

REHASH = Path(__file__).resolve().parents[2] / "examples" / "rehash.py"
ROUTE_ONLY = {"Content-Type": "application/vnd.dealtrail+json"}  # JSON the append lane leaves to the route


def _rehash(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REHASH), str(path)], capture_output=True, text=True, timeout=60)


def _name() -> str:
    return f"key-{uuid.uuid4().hex[:8]}"


def test_a_revoked_keys_name_is_not_given_to_another_key(client):
    name = _name()
    first = client.post("/v1/keys", json={"name": name, "role": "writer"}).json()
    assert client.delete(f"/v1/keys/{first['key_id']}").status_code == 200
    error = assert_error(client.post("/v1/keys", json={"name": name, "role": "admin"}), 409, "key_name_taken")
    assert error["details"] == {"name": name}
    assert [k["key_id"] for k in client.get("/v1/keys").json()["keys"] if k["name"] == name] == [first["key_id"]]


@pytest.mark.parametrize("name", ["dealtrail-watch", "dealtrail-bootstrap"])
def test_a_key_cannot_take_a_system_actors_name(client, name):
    assert_error(client.post("/v1/keys", json={"name": name, "role": "writer"}), 409, "key_name_taken")


def test_the_cli_says_the_name_is_taken(engine):
    key, _ = keys.create(engine, _name(), "auditor")
    keys.revoke(engine, key.key_id)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["keys", "create", key.name, "--role", "auditor", "--database-url", url])
    assert result.exit_code == 1 and "never reused" in result.output and "Traceback" not in result.output
    assert [k.key_id for k in keys.listed(engine) if k.name == key.name] == [key.key_id]


def test_the_database_refuses_a_second_key_of_the_same_name(engine):
    key, _ = keys.create(engine, _name(), "auditor")
    keys.revoke(engine, key.key_id)
    with owner_conn(engine).cursor() as cur, pytest.raises(psycopg2.errors.UniqueViolation):
        cur.execute("INSERT INTO auth.api_key (key_id, name, role, key_hash) VALUES (%s, %s, 'admin', %s)",
                    (str(uuid.uuid4()), key.name, bytes(32)))


def _keyed(engine, role="manager"):
    key, secret = keys.create(engine, _name(), role)
    return key, bearer(secret)


def test_each_event_records_the_key_that_appended_it(client, engine, deal_id):
    key, headers = _keyed(engine)
    assert post(client, deal_id, f.created(), **headers).status_code == 201  # the append lane
    assert client.post(f"/v1/deals/{deal_id}/events", content=json.dumps(f.contact()),
                       headers={**headers, **ROUTE_ONLY}).status_code == 201  # the declared route
    batch = {"events": [{"deal_id": deal_id, **f.moved("lead", "contacted")}]}
    assert client.post("/v1/events/batch", json=batch, headers=headers).status_code == 201
    stream = client.get(f"/v1/deals/{deal_id}/events").json()["events"]
    assert [(e["actor"], e["actor_key_id"]) for e in stream] == [(key.name, key.key_id)] * 3
    log = client.get("/v1/events", params={"after": stream[0]["position"] - 1, "limit": 1}).json()["events"]
    assert log[0]["actor_key_id"] == key.key_id
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT actor_key_id FROM events.event WHERE deal_id = :d"), {"d": deal_id})
        assert stored.scalars().all() == [key.key_id] * 3


def test_the_systems_own_events_record_no_key(client, engine):
    [defined] = client.get("/v1/events", params={"after": 0, "limit": 1}).json()["events"]
    assert defined["deal_id"] == "pipeline:default" and (defined["actor"], defined["source"]) == (
        "dealtrail-bootstrap", "/bootstrap")
    assert "actor_key_id" not in defined  # left out, as from the hash
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT actor_key_id FROM events.event WHERE position = :p"),
                              {"p": defined["position"]})
        assert stored.scalars().all() == [None]


def test_every_export_format_carries_the_key_id(client, engine, deal_id):
    key, headers = _keyed(engine)
    assert post(client, deal_id, f.created(), **headers).status_code == 201
    [mine] = [json.loads(line) for line in
              client.get("/v1/export", params={"format": "ndjson", "deal_id": deal_id}).text.splitlines()]
    assert mine["actor_key_id"] == key.key_id
    cloud = [json.loads(line) for line in
             client.get("/v1/export", params={"format": "cloudevents", "deal_id": deal_id}).text.splitlines()]
    assert cloud[0]["dealtrailactorkeyid"] == key.key_id
    csv_text = client.get("/v1/export", params={"format": "csv", "deal_id": deal_id}).text
    header, row = csv_text.splitlines()[:2]
    assert "actor_key_id" in header.split(",") and key.key_id in row.split(",")


def test_an_export_with_key_ids_rehashes_and_a_rewritten_key_id_breaks_the_chain(fresh_engine, deal_id, tmp_path):
    key, headers = _keyed(fresh_engine, "admin")
    app = create_app(Settings(DATABASE_URL="unused"), engine=fresh_engine)
    with TestClient(app, headers=headers) as client:
        assert post(client, deal_id, f.created()).status_code == 201
        assert post(client, deal_id, f.contact()).status_code == 201
        assert client.get("/v1/audit/verify").json()["ok"] is True
        exported = tmp_path / "log.ndjson"
        exported.write_bytes(client.get("/v1/export").content)  # the bootstrap event (no key id) and two keyed
    assert _rehash(exported).stdout.startswith("ok: 3 events")
    lines = exported.read_text().splitlines()
    forged = json.loads(lines[2])
    assert forged["actor_key_id"] == key.key_id
    forged["actor_key_id"] = str(uuid.uuid4())
    exported.write_text("\n".join([*lines[:2], json.dumps(forged)]) + "\n")
    assert _rehash(exported).returncode == 1
    other, _ = _keyed(fresh_engine)
    with owner_conn(fresh_engine).cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # bypasses triggers, as a superuser can
        cur.execute("UPDATE events.event SET actor_key_id = %s WHERE deal_id = %s", (other.key_id, deal_id))
    result = verify_chains(fresh_engine)
    assert not result.ok and result.first_broken["deal_id"] == deal_id
    assert "hash" in result.first_broken["reason"]
    with TestClient(app, headers=headers) as client:
        assert client.get("/v1/audit/verify").json()["first_broken"]["deal_id"] == deal_id


@pytest.mark.parametrize("source", ["/bootstrap", "/watch", "/Watch/", "import:salesforce"])
def test_a_client_cannot_claim_a_system_source(client, engine, deal_id, source):
    claimed = {"X-Dealtrail-Source": source}
    lane = assert_writes_nothing(engine, lambda: post(client, deal_id, f.created(), **claimed),
                                 422, "reserved_source")
    assert lane["details"]["source"] == source
    assert_writes_nothing(engine, lambda: client.post(
        f"/v1/deals/{deal_id}/events", content=json.dumps(f.created()), headers={**claimed, **ROUTE_ONLY}),
        422, "reserved_source")
    batch = {"events": [{"deal_id": deal_id, **f.created()}]}
    assert_writes_nothing(engine, lambda: client.post("/v1/events/batch", json=batch, headers=claimed),
                          422, "reserved_source")
    assert client.get(f"/v1/deals/{deal_id}/events").status_code == 404


def test_a_clients_own_source_is_recorded(client, deal_id):
    assert post(client, deal_id, f.created(), **{"X-Dealtrail-Source": "/crm-sync"}).status_code == 201
    [event] = client.get(f"/v1/deals/{deal_id}/events").json()["events"]
    assert event["source"] == "/crm-sync"
