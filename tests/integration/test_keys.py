"""SPEC §6 keys: the secret shown once and stored only as its hash, listing, revocation,
writers bound to an owner, and `actor` = the key's name."""
import hashlib
import re
import uuid

from sqlalchemy import text

from tests import factories as f
from tests.integration.helpers import assert_error, post
from tests.keys import bearer, key_headers


def _name() -> str:
    return f"key-{uuid.uuid4().hex[:8]}"


def _deal() -> str:
    return f"own-{uuid.uuid4().hex[:10]}"


def test_a_created_key_is_url_safe_shown_once_and_stored_only_as_its_hash(client, engine):
    name = _name()
    response = client.post("/v1/keys", json={"name": name, "role": "writer", "owner_id": "rep-9"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", body["key"]) and len(body["key"]) >= 46
    assert (body["name"], body["role"], body["owner_id"]) == (name, "writer", "rep-9")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM auth.api_key WHERE key_id = :k"), {"k": body["key_id"]}).mappings().one()
    assert bytes(row["key_hash"]) == hashlib.sha256(body["key"].encode()).digest()
    assert all(body["key"] not in str(value) for value in row.values())
    listed = {k["key_id"]: k for k in client.get("/v1/keys").json()["keys"]}
    assert set(listed[body["key_id"]]) == {"key_id", "name", "role", "owner_id", "created_at", "revoked_at"}
    assert client.get("/v1/deals/none", headers=bearer(body["key"])).status_code == 404


def test_revoking_is_immediate_idempotent_and_404_for_unknown_keys(client):
    created = client.post("/v1/keys", json={"name": _name(), "role": "auditor"}).json()
    assert client.get("/v1/events?limit=1&after=99999999", headers=bearer(created["key"])).status_code == 200
    first = client.delete(f"/v1/keys/{created['key_id']}")
    assert first.status_code == 200 and first.json()["revoked_at"]
    assert client.delete(f"/v1/keys/{created['key_id']}").json()["revoked_at"] == first.json()["revoked_at"]
    assert_error(client.get("/v1/events", headers=bearer(created["key"])), 401, "unauthenticated")
    assert_error(client.delete("/v1/keys/unknown"), 404, "key_not_found")


def test_owner_binds_writer_keys_only_and_names_are_unique(client):
    assert_error(client.post("/v1/keys", json={"name": _name(), "role": "manager", "owner_id": "r"}),
                 422, "validation_error")
    assert_error(client.post("/v1/keys", json={"name": _name(), "role": "root"}), 422, "validation_error")
    name = _name()
    assert client.post("/v1/keys", json={"name": name, "role": "auditor"}).status_code == 201
    assert_error(client.post("/v1/keys", json={"name": name, "role": "auditor"}), 409, "key_name_taken")


def test_a_bound_writer_creates_and_changes_only_its_owners_deals(client, engine):
    writer = key_headers(engine, "writer", owner_id="rep-a")
    assert_error(post(client, _deal(), f.created(owner_id="rep-b"), **writer), 403, "forbidden")
    mine, theirs = _deal(), _deal()
    assert post(client, mine, f.created(owner_id="rep-a"), **writer).status_code == 201
    assert post(client, theirs, f.created(owner_id="rep-b")).status_code == 201  # as admin
    assert_error(post(client, theirs, f.contact(), **writer), 403, "forbidden")
    assert post(client, mine, f.contact(), **writer).status_code == 201
    moved_away = {"type": "deal.owner_changed", "data": {"owner_id": "rep-b"}}
    assert post(client, mine, moved_away).status_code == 201
    assert_error(post(client, mine, f.contact(), **writer), 403, "forbidden")
    batch = {"events": [{"deal_id": _deal(), **f.created(owner_id="rep-a")},
                        {"deal_id": theirs, **f.contact()}]}
    error = assert_error(client.post("/v1/events/batch", json=batch, headers=writer), 403, "forbidden")
    assert error["details"]["index"] == 1


def test_an_unbound_writer_posts_deal_events_for_any_owner(client, engine):
    writer = key_headers(engine, "writer")
    assert post(client, _deal(), f.created(owner_id="rep-z"), **writer).status_code == 201


def test_the_actor_of_an_event_is_the_keys_name(client, engine):
    name = _name()
    deal = _deal()
    assert post(client, deal, f.created(), **key_headers(engine, "manager", name=name)).status_code == 201
    [event] = client.get(f"/v1/deals/{deal}/events").json()["events"]
    assert event["actor"] == name
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM events.event WHERE deal_id = :d"), {"d": deal}).scalar() == name


def test_a_revocation_by_another_process_is_honoured_within_the_cache_ttl(engine):
    """The documented trade: a found key is trusted for DEALTRAIL_AUTH_CACHE_SECONDS (a fake
    clock, so the test does not depend on how fast the machine is)."""
    from fastapi.testclient import TestClient

    from infra.settings import Settings
    from services import keys
    from services.api.app import create_app
    from services.api.plumbing.auth import KeyAuthenticator
    key, secret = keys.create(engine, _name(), "auditor")
    now = [1000.0]
    app = create_app(Settings(DATABASE_URL="unused"), engine=engine)
    app.state.authenticate = KeyAuthenticator(5.0, clock=lambda: now[0])
    with TestClient(app, headers=bearer(secret)) as c:
        assert c.get("/v1/projections").status_code == 200
        keys.revoke(engine, key.key_id)  # as `dealtrail keys revoke` or another API process would
        now[0] += 4.9
        assert c.get("/v1/projections").status_code == 200  # still cached
        now[0] += 0.2
        assert_error(c.get("/v1/projections"), 401, "unauthenticated")
