"""The API while the database is down or just restarted, and what /readyz reports."""
import psycopg2
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from infra.db import make_engine
from infra.embedded import free_port
from infra.settings import Settings
from services.api.app import create_app
from tests import factories as f
from tests.integration.helpers import post
from tests.keys import admin_headers, bearer

GONE = "/nonexistent-dealtrail-socket-dir"
APPLIED_ALL = ("INSERT INTO read_models.projection_stream SELECT 'sales', deal_id, max(position) "
               "FROM events.event GROUP BY deal_id")
RELAYED_ALL = ("INSERT INTO events.relay_checkpoint (relay, position) SELECT 'main', max(position) "
               "FROM events.event ON CONFLICT (relay) DO UPDATE SET position = EXCLUDED.position")


def client_for(engine, **settings) -> TestClient:
    """An admin key when the database answers; with none, the key lookup itself is what fails (503)."""
    try:
        headers = admin_headers(engine)
    except OperationalError:
        headers = bearer("dt_no-database-to-check-this-key")
    return TestClient(create_app(Settings(DATABASE_URL="unused", **settings), engine=engine), headers=headers)


def libpq_url(engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def test_database_down_is_503_unavailable_without_internals(deal_id):
    engine = make_engine(f"postgresql://postgres@/dealtrail?host={GONE}", pool_size=1)
    client = client_for(engine)
    for response in (client.get(f"/v1/deals/{deal_id}"), post(client, deal_id, f.created()),
                     client.get("/v1/reports/funnel")):
        assert response.status_code == 503, response.text
        assert response.json()["error"] == {"code": "unavailable", "details": {},
                                            "message": "the database is unavailable; retry shortly"}
        assert response.headers["retry-after"] == "1"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == {"ok": False, "reason": "unavailable"}
    assert GONE not in ready.text and "socket" not in ready.text
    engine.dispose()


def test_the_api_recovers_when_its_pooled_connections_were_cut(fresh_engine, deal_id):
    """What a database restart does to a running API: every pooled connection is dead."""
    client = client_for(fresh_engine)
    assert post(client, deal_id, f.created()).status_code == 201
    admin = psycopg2.connect(libpq_url(fresh_engine))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'")  # an autovacuum worker may be busy there
        assert cur.fetchone()[0] >= 1
    admin.close()
    assert client.get(f"/v1/deals/{deal_id}").status_code == 200


def test_readiness_reports_database_broker_relay_and_worker(fresh_engine, broker_bootstrap, deal_id):
    client = client_for(fresh_engine, KAFKA_BOOTSTRAP_SERVERS=broker_bootstrap)
    with fresh_engine.begin() as conn:  # what the template database holds (minutes old) is applied
        conn.exec_driver_sql(APPLIED_ALL)
    assert post(client, deal_id, f.created()).status_code == 201
    body = client.get("/readyz")
    assert body.status_code == 503
    checks = body.json()["checks"]
    assert checks["database"] == {"ok": True} and checks["broker"] == {"ok": True}
    assert checks["relay"]["ok"] is False and checks["relay"]["reason"] == "not running"
    assert checks["worker"]["ok"] is False and checks["worker"]["running"] is False
    sessions = [psycopg2.connect(libpq_url(fresh_engine), application_name=f"dealtrail-{name}")
                for name in ("relay", "worker")]
    try:
        with sessions[0], sessions[0].cursor() as cur:  # as if the relay published everything
            cur.execute(RELAYED_ALL)
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
        assert ready.json()["checks"]["relay"] == {"ok": True, "running": True, "seconds_behind": 0.0}
    finally:
        for session in sessions:
            session.close()


def test_readiness_without_a_broker_configured_needs_only_the_database(fresh_engine, deal_id):
    client = client_for(fresh_engine)
    assert post(client, deal_id, f.created()).status_code == 201
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["broker"] == {"ok": None, "reason": "not configured"}


def test_readiness_reports_a_broker_that_does_not_answer(fresh_engine):
    client = client_for(fresh_engine, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["broker"] == {"ok": False, "reason": "unreachable"}
