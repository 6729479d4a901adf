"""Ledger digests and proofs (SPEC §5) for auditors: signed tree heads, inclusion and consistency
proofs, hex everywhere. Every call first extends the tree to the committed log, so a digest or
proof is as fresh as the log; the API signs digests itself (the key of services.audit_key), while
`dealtrail watch` records and publishes them periodically. Auth is added where the app is wired."""
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from domain.errors import EventNotFound, InvalidQuery
from events import ledger
from events.digest import public_key_document
from services import digests, verification
from services.api.plumbing.deps import EngineDep
from services.api.plumbing.errors import documented
from services.api.plumbing.read_models_out import VerifyOut, ok
from services.audit_key import signing_key

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Size = Annotated[int, Query(ge=0, le=2**63 - 1)]


class DigestOut(BaseModel):
    tree_size: int
    root_hash: str
    last_position: int
    issued_at: str
    key_id: str
    signature: str


class PublicKeyOut(BaseModel):
    key_id: str
    algorithm: str
    public_key: str


class ProofOut(BaseModel):
    event_id: str
    leaf_index: int
    tree_size: int
    audit_path: list[str]


class ConsistencyOut(BaseModel):
    first: int
    second: int
    proof: list[str]


def _key(request: Request):
    """Loaded (or created) once per app, at the first request that needs it."""
    state = request.app.state
    if getattr(state, "audit_key", None) is None:
        state.audit_key = signing_key(state.settings)
    return state.audit_key


@router.get("/digest", response_model=DigestOut)
def get_digest(request: Request, engine: EngineDep):
    """A digest of the whole committed log, signed now (Ed25519 over its canonical JSON)."""
    return digests.issue(engine, _key(request))


@router.get("/verify", responses=ok(VerifyOut))
def audit_verify(request: Request, engine: EngineDep):
    """Recompute every per-deal hash chain, and check every event against its Merkle leaf and
    the leaves against the latest recorded signed digest (`ledger`); `first_broken` names the
    first event that fails either."""
    return verification.verify_log(engine, public_key_document(_key(request))["public_key"])


@router.get("/public-key", response_model=PublicKeyOut)
def get_public_key(request: Request):
    """The key digests are signed with: raw 32-byte Ed25519 public key, hex."""
    return public_key_document(_key(request))


@router.get("/proof", response_model=ProofOut, responses=documented(404, 422))
def get_proof(engine: EngineDep, event_id: UUID, tree_size: Size | None = None):
    """RFC 9162 §2.1.3 audit path of the event in the tree of `tree_size` (default: all of it)."""
    size = ledger.extend(engine).tree_size
    with engine.connect() as conn:
        index = ledger.leaf_of(conn, str(event_id))
        if index is None:
            raise EventNotFound(f"event {event_id} is not in the log", event_id=str(event_id))
        wanted = size if tree_size is None else tree_size
        if not index < wanted <= size:
            raise InvalidQuery(f"tree_size must be between {index + 1} (the event's leaf index + 1) "
                               f"and {size} (the tree's size)", leaf_index=index, size=size)
        path = ledger.inclusion(conn, index, wanted)
    return {"event_id": str(event_id), "leaf_index": index, "tree_size": wanted,
            "audit_path": [h.hex() for h in path]}


@router.get("/consistency", response_model=ConsistencyOut, responses=documented(422))
def get_consistency(engine: EngineDep, first: Size, second: Size | None = None):
    """RFC 9162 §2.1.4 proof that the tree of `second` leaves (default: all) extends that of `first`."""
    size = ledger.extend(engine).tree_size
    second = size if second is None else second
    if not first <= second <= size:
        raise InvalidQuery(f"need first <= second <= {size} (the tree's size)", size=size)
    with engine.connect() as conn:
        proof = ledger.consistency(conn, first, second)
    return {"first": first, "second": second, "proof": [h.hex() for h in proof]}
