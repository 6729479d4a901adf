"""`audit check --api-url`: the exported event hashes must rebuild the signed roots.

A consistency proof from the API only compares the server's tree with itself; a superuser who
re-hashes a deal's chain in events.event but leaves the tree alone keeps it valid, and the chain
re-hashes too. The export cannot hide it: its hashes, as RFC 9162 leaves in position order, must
rebuild the root of every signed digest at that digest's size, and a re-hashed event changes it.
One streaming pass (a frontier of log2 n hashes, plus one every BLOCK leaves to search from).

Naming the event: "do the first m exported leaves form the first m leaves of the signed tree?"
holds up to the first rewritten leaf and fails from there on; a consistency proof from m to the
digest's size (checked against the export's root of m and the signed root) answers it. A binary
search over the saved frontiers, then within one re-read block, takes about log2 n proofs."""
import json
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

from events.ledger_leaves import Anchor
from events.merkle import Frontier, event_leaf_hash, verify_consistency

BLOCK = 1024


@dataclass(frozen=True)
class Mark:
    """The exported leaves' frontier after `size` leaves, and the last position among them."""
    size: int
    frontier: Frontier
    position: int


def exported(client, after: int = 0, until: int | None = None) -> Iterator[dict]:
    """The API's NDJSON export, one event a time (no more than a line held)."""
    params = {"format": "ndjson", "after": after, **({} if until is None else {"until": until})}
    with client.stream("GET", "/v1/export", params=params) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.strip():
                yield json.loads(line)


def first_mismatch(client, anchors: list[Anchor], until: int) -> dict | None:
    """The first exported event whose hash is not the signed tree's leaf, or why the export
    cannot rebuild an anchor; None if every anchor's root is rebuilt."""
    pending, marks = sorted(anchors, key=lambda a: a.tree_size), [Mark(0, Frontier(), 0)]
    with closing(exported(client, until=until)) as events:
        found = _walk(events, pending, marks)
    if isinstance(found, Anchor):  # the export's stream is closed before the search's requests
        return _locate(client, found, [m for m in marks if m.size < found.tree_size])
    return found


def _walk(events, pending: list[Anchor], marks: list[Mark]) -> Anchor | dict | None:
    """The first anchor the exported leaves do not rebuild (marks filled on the way), or a problem."""
    frontier = Frontier()
    while pending:
        anchor = pending[0]
        if frontier.size == anchor.tree_size:
            pending.pop(0)
            if frontier.root() != anchor.root_hash:
                return anchor
            continue
        row = next(events, None)
        if row is None:
            return _problem(None, frontier.size, f"the export has {frontier.size} events, but "
                                                 f"{anchor.what} covers {anchor.tree_size}")
        frontier.append(event_leaf_hash(row["hash"]))
        if frontier.size % BLOCK == 0:
            marks.append(Mark(frontier.size, Frontier.from_json(frontier.to_json()), row["position"]))
    return None


def _locate(client, anchor: Anchor, marks: list[Mark]) -> dict:
    """Binary search: the last mark whose leaves the signed tree begins with, then the leaf."""
    lo, hi = 0, len(marks)  # marks[lo] holds (size 0 always does); marks[hi] unknown or fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _holds(client, anchor, marks[mid].size, marks[mid].frontier.root()):
            lo = mid
        else:
            hi = mid
    start = marks[lo]
    frontier, rows = Frontier.from_json(start.frontier.to_json()), []
    roots = []  # roots[i]: root of the first start.size + i + 1 exported leaves
    with closing(exported(client, after=start.position)) as events:
        for row in events:
            if frontier.size >= anchor.tree_size or len(rows) >= BLOCK:
                break
            frontier.append(event_leaf_hash(row["hash"]))
            rows.append(row)
            roots.append(frontier.root())
    if not rows:
        return _problem(None, start.size, f"the export ends before {anchor.what}'s size")
    low, high = -1, len(rows) - 1  # the prefix ending at rows[high] fails (the anchor itself did)
    while high - low > 1:
        mid = (low + high) // 2
        if _holds(client, anchor, start.size + mid + 1, roots[mid]):
            low = mid
        else:
            high = mid
    return _problem(rows[high], start.size + high,
                    f"its exported hash is not leaf {start.size + high} of {anchor.what} (the "
                    f"first {anchor.tree_size} exported hashes rebuild another root): the event "
                    "was rewritten after the digest was signed")


def _holds(client, anchor: Anchor, size: int, root: bytes) -> bool:
    """Whether the signed tree of the anchor begins with the tree of this root and size."""
    if size == anchor.tree_size:
        return root == anchor.root_hash
    response = client.get("/v1/audit/consistency", params={"first": size, "second": anchor.tree_size})
    response.raise_for_status()
    proof = [bytes.fromhex(h) for h in response.json()["proof"]]
    return verify_consistency(size, anchor.tree_size, root, anchor.root_hash, proof)


def first_difference(client, trusted_path, size: int) -> dict | None:
    """The first of `size` events whose hash in the API's export differs from a trusted export
    taken with the saved digest (both streamed side by side); None if they agree."""
    with open(trusted_path, encoding="utf-8") as trusted, closing(exported(client)) as events:
        then_rows = (json.loads(line) for line in trusted if line.strip())
        for index, (then, now) in enumerate(zip(then_rows, events)):
            if index >= size:
                return None
            if then["hash"] != now["hash"] or then["event_id"] != now["event_id"]:
                return _problem(then, index, f"its hash was {then['hash']} in the export taken with "
                                             f"the digest, and is {now['hash']} now")
    return None


def _problem(row: dict | None, leaf_index: int, reason: str) -> dict:
    row = row or {}
    return {"leaf_index": leaf_index, "position": row.get("position"), "event_id": row.get("event_id"),
            "deal_id": row.get("deal_id"), "reason": reason}
