"""The last active admin key cannot be revoked (409 `last_admin_key`, nothing changes), through
the API and `dealtrail keys revoke`, and two admins revoking each other's keys at once leave
one: the revocation locks the active admin keys in the database."""
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from infra.settings import Settings
from services import keys
from services.api.app import create_app
from services.cli import app as cli
from tests.integration.helpers import assert_error
from tests.keys import bearer
from tests.waiting import until


def _active_admins(engine) -> set[str]:
    return {k.key_id for k in keys.listed(engine) if k.role == "admin" and k.revoked_at is None}


@pytest.fixture()
def api(fresh_engine):
    """A database with no key yet and an app on it (no admin key made for the client)."""
    app = create_app(Settings(DATABASE_URL="unused"), engine=fresh_engine)
    with TestClient(app) as client:
        yield client


def test_the_api_refuses_to_revoke_the_last_admin_key(api, fresh_engine):
    only, secret = keys.create(fresh_engine, "root", "admin")
    writer, _ = keys.create(fresh_engine, "ann", "writer")
    as_admin = bearer(secret)
    assert api.delete(f"/v1/keys/{writer.key_id}", headers=as_admin).status_code == 200  # others still go
    error = assert_error(api.delete(f"/v1/keys/{only.key_id}", headers=as_admin), 409, "last_admin_key")
    assert error["details"] == {"key_id": only.key_id}
    assert _active_admins(fresh_engine) == {only.key_id}
    assert api.get("/v1/keys", headers=as_admin).status_code == 200  # the key still works

    second, second_secret = keys.create(fresh_engine, "root-2", "admin")
    assert api.delete(f"/v1/keys/{only.key_id}", headers=bearer(second_secret)).json()["revoked_at"]
    assert_error(api.delete(f"/v1/keys/{second.key_id}", headers=bearer(second_secret)), 409, "last_admin_key")
    assert api.delete(f"/v1/keys/{only.key_id}", headers=bearer(second_secret)).status_code == 200  # idempotent
    assert _active_admins(fresh_engine) == {second.key_id}


def test_the_cli_refuses_to_revoke_the_last_admin_key(fresh_engine, databases):
    only, _ = keys.create(fresh_engine, "root", "admin")
    url = fresh_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["keys", "revoke", only.key_id, "--database-url", url])
    assert result.exit_code == 1, result.output
    assert "last active admin key" in result.output and "Traceback" not in result.output
    assert _active_admins(fresh_engine) == {only.key_id}
    other, _ = keys.create(fresh_engine, "root-2", "admin")
    result = CliRunner().invoke(cli, ["keys", "revoke", only.key_id, "--database-url", url])
    assert result.exit_code == 0, result.output
    assert _active_admins(fresh_engine) == {other.key_id}


def _waiting_on_locks(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar()


def test_two_admins_revoking_each_others_keys_at_once_leave_one(fresh_engine):
    """Both revocations are made to wait on the test's lock of the key rows, then run together."""
    a, _ = keys.create(fresh_engine, "admin-a", "admin")
    b, _ = keys.create(fresh_engine, "admin-b", "admin")
    outcomes: dict[str, object] = {}

    def revoke(key_id):
        try:
            outcomes[key_id] = keys.revoke(fresh_engine, key_id)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[key_id] = exc
    with fresh_engine.connect() as holder:
        holder.execute(text("SELECT 1 FROM auth.api_key FOR UPDATE"))
        threads = [threading.Thread(target=revoke, args=(k.key_id,)) for k in (a, b)]
        for thread in threads:
            thread.start()
        until(lambda: _waiting_on_locks(fresh_engine) == 2, timeout=60)
        holder.rollback()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2
    refused = [o for o in outcomes.values() if isinstance(o, keys.LastAdminKey)]
    revoked = [o for o in outcomes.values() if isinstance(o, keys.ApiKey) and o.revoked_at]
    assert (len(refused), len(revoked)) == (1, 1), outcomes
    assert _active_admins(fresh_engine) == {a.key_id, b.key_id} - {revoked[0].key_id}
