"""Migration 0022: names held by several keys before it (a revoked key's name reused) become
unique — the active key keeps the name, else the oldest; the others are renamed
`<name>~<key_id>` — and a downgrade is refused once an event carries a key id (it is inside
that event's hash)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import InternalError

from infra.db import make_engine
from infra.migrate import alembic_config, upgrade
from services import keys
from tests import factories as f
from tests.conftest import APP_ROLE

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _downgrade(url: str) -> None:
    owner = make_engine(url, pool_size=1)
    try:
        with owner.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0021")
    finally:
        owner.dispose()


def _insert(conn, name: str, days: int, revoked: bool) -> str:
    key_id = str(uuid.uuid4())
    conn.execute(text("INSERT INTO auth.api_key (key_id, name, role, key_hash, created_at, revoked_at) "
                      "VALUES (:k, :n, 'writer', :h, :c, :r)"),
                 {"k": key_id, "n": name, "h": uuid.uuid4().bytes * 2, "c": T0 + timedelta(days=days),
                  "r": T0 + timedelta(days=days + 1) if revoked else None})
    return key_id


def test_0022_makes_names_unique_keeping_the_active_or_oldest_key(databases):
    url = databases.fresh()
    _downgrade(url)
    owner = make_engine(url, pool_size=1)
    with owner.begin() as conn:  # what 0014's partial index allowed
        ann_old, ann_revoked, ann_active = (_insert(conn, "ann", 1, True), _insert(conn, "ann", 2, True),
                                            _insert(conn, "ann", 3, False))
        bob_first, bob_second = _insert(conn, "bob", 5, True), _insert(conn, "bob", 6, True)
        cy = _insert(conn, "cy", 7, False)
    owner.dispose()
    upgrade(url)
    engine = make_engine(databases.app_url(url), app_role=APP_ROLE, pool_size=2)
    names = {k.key_id: k.name for k in keys.listed(engine)}
    assert names == {ann_active: "ann", ann_old: f"ann~{ann_old}", ann_revoked: f"ann~{ann_revoked}",
                     bob_first: "bob", bob_second: f"bob~{bob_second}", cy: "cy"}
    with pytest.raises(keys.NameTaken):
        keys.create(engine, "bob", "writer")
    engine.dispose()


def test_a_downgrade_is_refused_once_an_event_carries_a_key_id(databases):
    from fastapi.testclient import TestClient

    from infra.settings import Settings
    from services.api.app import create_app
    from tests.keys import key_headers
    url = databases.fresh()
    engine = make_engine(databases.app_url(url), app_role=APP_ROLE, pool_size=2)
    with TestClient(create_app(Settings(DATABASE_URL="unused"), engine=engine),
                    headers=key_headers(engine, "manager")) as client:
        assert client.post("/v1/deals/d-1/events", json=f.created()).status_code == 201
    engine.dispose()
    with pytest.raises(InternalError, match="actor_key_id inside their hashes"):
        _downgrade(url)
    owner = make_engine(url, pool_size=1)
    with owner.connect() as conn:
        assert conn.execute(text("SELECT count(actor_key_id) FROM events.event")).scalar() == 1
    owner.dispose()
