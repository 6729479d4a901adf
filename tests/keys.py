"""API keys for tests: the apps under test authenticate as an admin key unless a test says otherwise."""
import uuid

from services import keys


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def key_headers(engine, role: str = "admin", owner_id: str | None = None, name: str | None = None) -> dict[str, str]:
    _, secret = keys.create(engine, name or f"test-{role}-{uuid.uuid4().hex[:8]}", role, owner_id)
    return bearer(secret)


def admin_headers(engine) -> dict[str, str]:
    return key_headers(engine, "admin")
