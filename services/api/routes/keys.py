"""`/v1/keys` (admin): create (the secret is in that response only; a name any key ever had
→ 409 `key_name_taken`), list, revoke (not the last active admin key → 409 `last_admin_key`)."""
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from events.schema import DEAL_ID_PATTERN
from services import keys
from services.api.plumbing.bodies import EVENT_BODY_LIMIT, limited_route
from services.api.plumbing.deps import EngineDep
from services.api.plumbing.errors import documented

router = APIRouter(prefix="/v1/keys", tags=["keys"], route_class=limited_route(EVENT_BODY_LIMIT),
                   responses=documented(422))
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]( ?[\x21-\x7e])*$")]
OwnerId = Annotated[str, Field(pattern=DEAL_ID_PATTERN)]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    role: keys.Role
    owner_id: OwnerId | None = Field(default=None, description="writer keys: the owner it acts for")

    @model_validator(mode="after")
    def _owner_for_writers(self):
        if self.owner_id is not None and self.role != keys.Role.WRITER:
            raise ValueError("owner_id binds writer keys only")
        return self


class KeyOut(BaseModel):
    key_id: str
    name: str
    role: keys.Role
    owner_id: str | None
    created_at: str | None = None
    revoked_at: str | None = None


class CreatedKeyOut(KeyOut):
    key: str = Field(description="The secret: shown in this response only, stored only as a hash.")


class KeysOut(BaseModel):
    keys: list[KeyOut]


def _out(key: keys.ApiKey) -> dict:
    return {**key.to_dict(), "created_at": _iso(key.created_at), "revoked_at": _iso(key.revoked_at)}


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


@router.post("", status_code=201, response_model=CreatedKeyOut,
             responses=documented(409, 413, 415))
def create_key(body: KeyIn, engine: EngineDep):
    key, secret = keys.create(engine, body.name, body.role, body.owner_id)
    return {**_out(key), "key": secret}


@router.get("", response_model=KeysOut)
def list_keys(engine: EngineDep):
    return {"keys": [_out(k) for k in keys.listed(engine)]}


@router.delete("/{key_id}", response_model=KeyOut, responses=documented(404, 409))
async def revoke_key(key_id: Annotated[str, Path(max_length=64)], engine: EngineDep, request: Request):
    """Idempotent. This process stops accepting the key at once, others within the auth cache TTL.
    The last active admin key is refused (409 `last_admin_key`): nobody could manage keys after it."""
    key = await run_in_threadpool(keys.revoke, engine, key_id)
    request.app.state.authenticate.forget(key.key_id)
    return _out(key)
