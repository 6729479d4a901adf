"""API keys: 256-bit random secrets, stored only as their SHA-256. A fast hash is right for
random secrets (nothing to brute-force), and keeps the per-request lookup one index probe.
Used by the API (`/v1/keys`, authentication), the CLI (`dealtrail keys`) and `dealtrail up`.

A key's name is the `actor` of what it appends, so names are unique among all keys, revoked
ones included (a reused name would make two keys one actor), and never a system actor's.
The last active admin key cannot be revoked: nobody could manage keys any more."""
import hashlib
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, Engine, LargeBinary, MetaData, Table, Text, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain.errors import DomainError
from services.origins import SYSTEM_ACTORS

PREFIX = "dt_"
api_key = Table("api_key", MetaData(schema="auth"),
                Column("key_id", Text, primary_key=True), Column("name", Text, nullable=False),
                Column("role", Text, nullable=False), Column("owner_id", Text),
                Column("key_hash", LargeBinary, nullable=False),
                Column("created_at", DateTime(timezone=True), server_default=func.now()),
                Column("revoked_at", DateTime(timezone=True)))


class Role(StrEnum):
    WRITER = "writer"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMIN = "admin"


class KeyNotFound(DomainError):
    code = "key_not_found"


class NameTaken(DomainError):
    code = "key_name_taken"


class LastAdminKey(DomainError):
    code = "last_admin_key"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    role: str
    owner_id: str | None
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def new_secret() -> str:
    """`dt_` + 43 URL-safe characters (letters, digits, `_`, `-`): 256 random bits."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def create(engine: Engine, name: str, role: Role | str, owner_id: str | None = None) -> tuple[ApiKey, str]:
    """The new key and its secret: the only time the secret exists outside the caller."""
    if name in SYSTEM_ACTORS:
        raise NameTaken(f"{name!r} is the system's own actor; choose another name", name=name)
    secret = new_secret()
    key = ApiKey(key_id=str(uuid.uuid4()), name=name, role=Role(role).value, owner_id=owner_id)
    try:
        with engine.begin() as conn:
            row = conn.execute(insert(api_key).values(**key.to_dict() | {"created_at": func.now()},
                                                      key_hash=hash_secret(secret))
                               .returning(api_key.c.created_at)).one()
    except IntegrityError:  # the unique index on the name (the hash is 256 random bits)
        raise NameTaken(f"a key named {name!r} exists (names are never reused, even once revoked)",
                        name=name) from None
    return ApiKey(**key.to_dict() | {"created_at": row.created_at}), secret


def _key(row) -> ApiKey:
    return ApiKey(row.key_id, row.name, row.role, row.owner_id, row.created_at, row.revoked_at)


def listed(engine: Engine) -> list[ApiKey]:
    columns = [c for c in api_key.c if c.name != "key_hash"]
    with engine.connect() as conn:
        return [_key(r) for r in conn.execute(select(*columns).order_by(api_key.c.created_at, api_key.c.key_id))]


def revoke(engine: Engine, key_id: str) -> ApiKey:
    """Idempotent: revoking a revoked key keeps its first revocation time. Revoking an admin key
    first locks every active admin key (in key_id order, so two revocations cannot deadlock):
    of two admins revoking each other's keys at once, the second sees the first's revocation
    and is refused, never leaving zero."""
    with engine.begin() as conn:
        role = conn.execute(select(api_key.c.role).where(api_key.c.key_id == key_id)).scalar()
        if role is None:
            raise KeyNotFound(f"key {key_id} does not exist", key_id=key_id)
        if role == Role.ADMIN.value:
            _refuse_last_admin(conn, key_id)
        conn.execute(update(api_key).where(api_key.c.key_id == key_id, api_key.c.revoked_at.is_(None))
                     .values(revoked_at=func.now()))
        row = conn.execute(select(api_key).where(api_key.c.key_id == key_id)).one()
    return _key(row)


def _refuse_last_admin(conn, key_id: str) -> None:
    """Lock the active admin keys (a role never changes, so the role read unlocked stands);
    LastAdminKey when `key_id` is the only one left."""
    active = conn.execute(select(api_key.c.key_id).where(
        api_key.c.role == Role.ADMIN.value, api_key.c.revoked_at.is_(None))
        .order_by(api_key.c.key_id).with_for_update()).scalars().all()
    if active == [key_id]:
        raise LastAdminKey("this is the last active admin key: create another admin key before "
                           "revoking it", key_id=key_id)


def find_active(engine: Engine, secret: str) -> ApiKey | None:
    """The unrevoked key with this secret (one probe of the unique index on its hash)."""
    with engine.connect() as conn:
        row = conn.execute(select(api_key).where(api_key.c.key_hash == hash_secret(secret),
                                                 api_key.c.revoked_at.is_(None))).one_or_none()
    return None if row is None else _key(row)


def has_admin(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(api_key.c.key_id).where(
            api_key.c.role == Role.ADMIN.value, api_key.c.revoked_at.is_(None)).limit(1)).first() is not None
