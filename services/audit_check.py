"""`dealtrail audit check`: does the log today extend a digest saved earlier?

The saved digest is trusted because its signature checks with the public key the auditor holds.
The current tree's head and the RFC 9162 consistency proof come from the database (or the API);
the proof must take the saved root to the current root. If it does not, history below the saved
size was rewritten; given a trusted copy of the old leaves (an export of event hashes, taken
when the digest was), the first rewritten leaf is found in O(log n) node comparisons. On the
database it then re-hashes every event into its leaf (O(n), streaming): a rewrite that leaves
the audit tables alone keeps the tree's own proofs valid; the leaves must also rebuild the saved
root and the latest recorded digest's (services.verification). Through the API the export's
hashes must rebuild the saved and the API's signed roots (services.export_leaves)."""
import json
from dataclasses import dataclass
from pathlib import Path

from events import ledger
from events.digest import check_digest
from events.ledger_leaves import Anchor
from events.merkle import MemoryNodes, event_leaf_hash, first_difference, verify_consistency
from services import export_leaves
from services.verification import verify_ledger


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str


def load_digest(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def check_with_database(engine, saved: dict, public_key: str, export: Path | None = None) -> Outcome:
    problem = check_digest(saved, public_key)
    if problem:
        return Outcome(False, f"the saved digest is not valid: {problem}")
    size, saved_root = saved["tree_size"], bytes.fromhex(saved["root_hash"])
    now = ledger.extend(engine)
    if now.tree_size < size:
        return Outcome(False, f"the log has {now.tree_size} events, fewer than the digest's {size}: "
                              "history was deleted")
    with engine.connect() as conn:
        proof = ledger.consistency(conn, size, now.tree_size)
        if not verify_consistency(size, now.tree_size, saved_root, now.root_hash, proof):
            return Outcome(False, _rewritten(conn, size, saved_root, export))
    checked = verify_ledger(engine, public_key, (Anchor(size, saved_root, f"the saved digest (tree_size {size})"),))
    if not checked["ok"]:
        return Outcome(False, f"the events no longer match the tree: {named(checked['first_mismatch'])}")
    return Outcome(True, f"ok: the log of {now.tree_size} events extends the digest of {size}")


def named(mismatch: dict) -> str:
    """`leaf i (position p, event_id e, deal_id d): why`, with what is known of the event."""
    where = [f"{k} {mismatch[k]}" for k in ("position", "event_id", "deal_id") if mismatch.get(k) is not None]
    leaf = "the ledger" if mismatch.get("leaf_index") is None else f"leaf {mismatch['leaf_index']}"
    return f"{leaf} ({', '.join(where)}): {mismatch['reason']}" if where else f"{leaf}: {mismatch['reason']}"


def check_with_api(client, saved: dict, public_key: str, export: Path | None = None) -> Outcome:
    """The same check against a running API (`client`: an httpx.Client with base URL and key):
    the consistency proof, then the API's export re-hashed into leaves against both signed roots."""
    problem = check_digest(saved, public_key)
    if problem:
        return Outcome(False, f"the saved digest is not valid: {problem}")
    current = _get(client, "/v1/audit/digest")
    problem = check_digest(current, public_key)
    if problem:
        return Outcome(False, f"the API's digest is not valid: {problem}")
    size, now = saved["tree_size"], current["tree_size"]
    if now < size:
        return Outcome(False, f"the log has {now} events, fewer than the digest's {size}: history was deleted")
    saved_root, now_root = bytes.fromhex(saved["root_hash"]), bytes.fromhex(current["root_hash"])
    proof = _get(client, "/v1/audit/consistency", first=size, second=now)["proof"]
    if not verify_consistency(size, now, saved_root, now_root, [bytes.fromhex(h) for h in proof]):
        return Outcome(False, _rewritten_via_api(client, size, now, export))
    found = export_leaves.first_mismatch(client, [Anchor(size, saved_root, f"the saved digest (tree_size {size})"),
                                                  Anchor(now, now_root, f"the API's digest (tree_size {now})")],
                                         until=current["last_position"])
    if found:
        return Outcome(False, f"the exported events no longer match the signed tree: {named(found)}")
    return Outcome(True, f"ok: the log of {now} events extends the digest of {size}")


def _rewritten_via_api(client, size: int, now: int, export: Path | None) -> str:
    said = (f"history before tree_size {size} was rewritten: the log of {now} events "
            f"does not extend the digest of {size}")
    if export is None:
        return said + "; give --export FILE (event hashes from then) to name the first rewritten event"
    found = export_leaves.first_difference(client, export, size)
    return said + (f"; first rewritten event: {named(found)}" if found
                   else "; the API's export matches the given export (the tree was damaged)")


def _get(client, path: str, **params) -> dict:
    response = client.get(path, params=params)
    response.raise_for_status()
    return response.json()


def _rewritten(conn, size: int, saved_root: bytes, export: Path | None) -> str:
    said = f"history before tree_size {size} was rewritten (the consistency proof fails)"
    if export is None:
        return said + "; give --export FILE (event hashes from then) to name the first rewritten event"
    trusted, rows = _trusted_leaves(export, size)
    if trusted.frontier.root() != saved_root:
        return said + f"; the export's first {size} events do not match the digest either"
    index = first_difference(size, ledger.table_nodes(conn), trusted)
    if index is None:
        return said + "; the nodes below the digest's size match the export (the tree above was damaged)"
    now = ledger.leaf_row(conn, index) or {}
    then = rows[index]
    return (said + f"; first rewritten event: leaf {index}, position {then.get('position', now.get('position'))}, "
                   f"event_id {then.get('event_id', now.get('event_id'))}")


def _trusted_leaves(export: Path, size: int) -> tuple[MemoryNodes, list[dict]]:
    """The first `size` events of an NDJSON export (any lines with a `hash`, in position order)."""
    rows = []
    with open(export, encoding="utf-8") as lines:
        for line in lines:
            if line.strip() and len(rows) < size:
                rows.append(json.loads(line))
    return MemoryNodes(event_leaf_hash(r["hash"]) for r in rows), rows
