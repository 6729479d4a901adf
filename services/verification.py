"""`dealtrail verify` and `GET /v1/audit/verify`: the per-deal chains and the ledger, one answer.

The chains alone miss a superuser who re-hashes a whole chain (its links and contents agree
again). The ledger does not: every event's hash must still be its Merkle leaf, and the leaves
must rebuild the root of the latest recorded signed digest (its signature checked with the
ledger's public key) and the tree's stored head. Events recorded after that digest are checked
against their leaves only. With no digest recorded yet, nothing outside the database anchors
the tree, and the answer says so (`ledger.digest` is null)."""
from sqlalchemy import Engine

from events import ledger
from events.digest import check_digest
from events.ledger_leaves import Anchor, check_leaves
from events.verify import verify_chains
from services import digests


def verify_log(engine: Engine, public_key: str | None) -> dict:
    """The chains' result, with `ledger` added; `ok` and `first_broken` cover both."""
    chains = verify_chains(engine)
    checked = verify_ledger(engine, public_key)
    mismatch = checked["first_mismatch"]
    problems = chains.problems + ([{**mismatch, "reason": f"ledger: {mismatch['reason']}"}] if mismatch else [])
    return {"ok": chains.ok and checked["ok"], "events_checked": chains.events_checked,
            "streams_checked": chains.streams_checked,
            "first_broken": chains.first_broken or (problems[-1] if mismatch else None),
            "problems": problems[:100], "ledger": checked}


def verify_ledger(engine: Engine, public_key: str | None, extra: tuple[Anchor, ...] = ()) -> dict:
    """Extend the tree to the committed log, then check every leaf and the roots it must rebuild
    (`extra`: more of them, such as a digest an auditor saved)."""
    head = ledger.extend(engine)
    latest = digests.latest(engine)
    anchors = [Anchor(head.tree_size, head.root_hash, "the tree's stored head"), *extra]
    if latest:
        anchors.append(Anchor(latest["tree_size"], bytes.fromhex(latest["root_hash"]),
                              f"the latest signed digest (tree_size {latest['tree_size']}, "
                              f"issued {latest['issued_at']})"))
    with engine.connect() as conn:
        result = check_leaves(conn, head.tree_size, head.last_position, anchors)
    mismatch = result.mismatch
    problem = check_digest(latest, public_key) if latest and public_key else None
    if mismatch is None and problem:
        mismatch = {"leaf_index": None, "position": None, "event_id": None, "deal_id": None,
                    "reason": f"the latest recorded digest (tree_size {latest['tree_size']}) is not "
                              f"valid: {problem}"}
    return {"ok": mismatch is None, "checked": result.checked, "tree_size": head.tree_size,
            "digest": latest and {**{k: latest[k] for k in ("tree_size", "root_hash", "issued_at", "key_id")},
                                  "signature": _signature(public_key, problem)},
            "first_mismatch": mismatch}


def _signature(public_key: str | None, problem: str | None) -> str:
    if public_key is None:
        return "not checked: no public key (give --public-key, or the key file)"
    return problem or "valid"
