"""The log is append-only by database rule; tampering by a superuser is detected by the chain."""
import psycopg2
import pytest
from fastapi.testclient import TestClient

from events.verify import verify_chains
from infra.settings import Settings
from services.api.app import create_app
from tests import factories as f
from tests.keys import admin_headers
from tests.owners import owner_url


@pytest.fixture()
def filled(fresh_engine, databases):
    app = create_app(Settings(DATABASE_URL="unused"), engine=fresh_engine)
    with TestClient(app, headers=admin_headers(fresh_engine)) as client:
        for deal in ("a", "b"):
            client.post(f"/v1/deals/{deal}/events", json=f.created())
            client.post(f"/v1/deals/{deal}/events", json=f.moved("lead", "contacted"))
            client.post(f"/v1/deals/{deal}/events", json=f.contact())
        yield client, fresh_engine


def owner_conn(engine):
    """A connection as the schema owner (the superuser), without SET ROLE."""
    conn = psycopg2.connect(owner_url(engine).replace("postgresql+psycopg2://", "postgresql://"))
    conn.autocommit = True
    return conn


def app_conn(engine):
    """The services' own login (the engine's URL)."""
    conn = psycopg2.connect(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    conn.autocommit = True
    return conn


@pytest.mark.parametrize("statement", [
    "UPDATE events.event SET type = 'x'", "DELETE FROM events.event", "TRUNCATE events.event"])
def test_app_role_can_only_insert_and_select(filled, statement):
    _, engine = filled
    with app_conn(engine).cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(statement)


@pytest.mark.parametrize("statement", [
    "UPDATE events.event SET type = 'x'", "DELETE FROM events.event WHERE position = 1",
    "TRUNCATE events.event"])
def test_triggers_reject_changes_even_for_the_owner(filled, statement):
    _, engine = filled
    with owner_conn(engine).cursor() as cur:
        with pytest.raises(psycopg2.errors.RestrictViolation, match="append-only"):
            cur.execute(statement)


def test_untouched_log_verifies(filled):
    client, engine = filled
    body = client.get("/v1/audit/verify").json()
    # two deals of three events, plus the default pipeline definition every database starts with
    assert body["ok"] is True and body["events_checked"] == 7 and body["streams_checked"] == 3
    assert verify_chains(engine).first_broken is None


def _tamper(engine, statement):
    with owner_conn(engine).cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # bypasses triggers, as a superuser can
        cur.execute(statement)


def test_superuser_edit_of_data_is_detected(filled):
    client, engine = filled
    _tamper(engine, "UPDATE events.event SET data = jsonb_set(data, '{channel}', '\"email\"') "
                    "WHERE deal_id = 'b' AND stream_version = 3")
    body = client.get("/v1/audit/verify").json()
    assert body["ok"] is False
    assert (body["first_broken"]["deal_id"], body["first_broken"]["stream_version"]) == ("b", 3)
    assert "hash" in body["first_broken"]["reason"]


def test_superuser_delete_in_the_middle_is_detected(filled):
    _, engine = filled
    _tamper(engine, "DELETE FROM events.event WHERE deal_id = 'a' AND stream_version = 2")
    result = verify_chains(engine)
    assert not result.ok and result.first_broken["stream_version"] == 3


def test_superuser_delete_of_the_last_event_is_detected(filled):
    _, engine = filled
    _tamper(engine, "DELETE FROM events.event WHERE deal_id = 'a' AND stream_version = 3")
    result = verify_chains(engine)
    assert not result.ok and result.first_broken["deal_id"] == "a"


def test_rewriting_hashes_consistently_still_breaks_the_next_link(filled):
    _, engine = filled
    _tamper(engine, "UPDATE events.event SET actor = 'mallory', hash = repeat('a', 64) "
                    "WHERE deal_id = 'a' AND stream_version = 1")
    result = verify_chains(engine)
    assert not result.ok and result.first_broken["stream_version"] == 1
