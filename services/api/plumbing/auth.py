"""Who is calling: `Authorization: Bearer <key>` → a `Principal`, or 401 `unauthenticated`.
Keys found are cached in-process for `DEALTRAIL_AUTH_CACHE_SECONDS` (default 5 s): the append
path then pays a dict lookup, not a query. A revocation is honoured at once by the process that
served it and within that TTL by the others. Unknown keys are not cached (no unbounded growth
from guessed keys); each costs one index probe."""
import time

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from services import keys
from services.api.plumbing.deps import Principal

CHALLENGE = {"WWW-Authenticate": "Bearer"}
MAX_CACHED = 10_000


def unauthenticated(message: str) -> HTTPException:
    return HTTPException(401, message, headers=CHALLENGE)


class KeyAuthenticator:
    """`app.state.authenticate`: bearer key → Principal, cached briefly."""

    def __init__(self, ttl_seconds: float = 5.0, clock=time.monotonic):
        self.ttl, self.clock = ttl_seconds, clock
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def __call__(self, request: Request) -> Principal:
        return await self.principal(request.headers.get("authorization"), request.app.state.engine)

    async def principal(self, authorization: str | None, engine) -> Principal:
        """The caller named by an `Authorization` header value (the append route's fast path has no Request)."""
        secret = _bearer(authorization)
        cached = self._cache.get(secret)
        if cached and cached[0] > self.clock():
            return cached[1]
        key = await run_in_threadpool(keys.find_active, engine, secret)
        if key is None:
            raise unauthenticated("the API key is unknown or revoked")
        principal = Principal(actor=key.name, role=key.role, owner_id=key.owner_id, key_id=key.key_id)
        if self.ttl > 0:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[secret] = (self.clock() + self.ttl, principal)
        return principal

    def forget(self, key_id: str) -> None:
        """A key revoked here stops working here at once."""
        self._cache = {s: v for s, v in self._cache.items() if v[1].key_id != key_id}


def _bearer(header: str | None) -> str:
    if not header:
        raise unauthenticated("an API key is required: Authorization: Bearer <key>")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise unauthenticated("the Authorization header must be: Bearer <key>")
    return secret
