"""Do the tree's leaves still match the events, and do they rebuild the signed roots? One O(n)
streaming pass for `verify` and `audit check`.

Consistency proofs only compare the tree with itself, and per-deal chains only compare events
with each other. A superuser who re-hashes a deal's chain in events.event but leaves the audit
tables alone keeps both valid; re-hashing each event into its leaf and comparing it with the
stored leaf node names the event. One who rebuilds the tree too is caught by the anchors: the
roots (signed digests, the tree's stored head) the leaves must rebuild at their sizes. Memory
is a page of rows and one frontier (log2 n hashes), whatever the log's length."""
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, text

from events.merkle import Frontier, event_leaf_hash
from events.tables import event

# One page of leaves, each joined to its leaf node and its event by index look-ups (LATERAL): a
# plain join let the planner hash the whole events table for every page (O(n^2) over the log:
# 200k events 14 s, 400k 64 s).
_PAGE = text("""
SELECT l.leaf_index, l.position, l.event_id::text AS event_id, e.deal_id, e.hash AS event_hash,
       n.hash AS node_hash
FROM (SELECT * FROM audit.leaf WHERE leaf_index >= :start AND leaf_index < :end
      ORDER BY leaf_index LIMIT :n) l
CROSS JOIN LATERAL (SELECT hash FROM audit.merkle_node WHERE level = 0 AND idx = l.leaf_index) n
LEFT JOIN LATERAL (SELECT deal_id, hash FROM events.event
                   WHERE position = l.position AND event_id = l.event_id) e ON true
ORDER BY l.leaf_index
""")


@dataclass(frozen=True)
class Anchor:
    """A root the first `tree_size` leaves must rebuild; `what` names it in messages."""
    tree_size: int
    root_hash: bytes
    what: str


@dataclass
class LeafCheck:
    checked: int = 0
    mismatch: dict | None = None  # {leaf_index, position, event_id, deal_id, reason}

    @property
    def ok(self) -> bool:
        return self.mismatch is None

    def fail(self, leaf_index: int, reason: str, row=None) -> "LeafCheck":
        row = row or {}
        self.mismatch = {"leaf_index": leaf_index, "position": row.get("position"),
                         "event_id": row.get("event_id"), "deal_id": row.get("deal_id"), "reason": reason}
        return self


def check_leaves(conn: Connection, tree_size: int, last_position: int, anchors=(),
                 page: int = 10_000) -> LeafCheck:
    """The first leaf below `tree_size` whose event is gone or re-hashed, the first anchor the
    leaves do not rebuild, or an event at or below `last_position` not in the tree (inserted)."""
    result, frontier = LeafCheck(), Frontier()
    pending = sorted(anchors, key=lambda a: a.tree_size)
    if not _anchors_hold(result, frontier, pending):
        return result
    while frontier.size < tree_size:
        start = frontier.size
        rows = conn.execute(_PAGE, {"start": start, "end": tree_size, "n": page}).mappings().all()
        if not rows:
            return result.fail(start, "the leaf is missing from the tree")
        for expected, row in enumerate(rows, start):
            problem = _leaf_problem(row, expected)
            if problem:
                return result.fail(expected, problem, row if row["leaf_index"] == expected else None)
            frontier.append(event_leaf_hash(row["event_hash"]))
            result.checked += 1
            if not _anchors_hold(result, frontier, pending):
                return result
    if pending:
        anchor = pending[0]
        return result.fail(tree_size, f"{anchor.what} covers {anchor.tree_size} events but the tree "
                                      f"has {tree_size}: leaves were removed")
    extra = conn.execute(select(func.count()).where(event.c.position <= last_position)).scalar()
    if extra != tree_size:
        return result.fail(tree_size, f"{extra} events at or below position {last_position}, "
                                      f"but the tree has {tree_size}: events were inserted")
    return result


def _anchors_hold(result: LeafCheck, frontier: Frontier, pending: list[Anchor]) -> bool:
    """Compare the rebuilt root with every anchor of the frontier's size (popped once seen)."""
    while pending and pending[0].tree_size == frontier.size:
        anchor = pending.pop(0)
        root = frontier.root()
        if root != anchor.root_hash:
            result.fail(frontier.size, f"the first {frontier.size} events rebuild the root "
                                       f"{root.hex()}, not the root {anchor.root_hash.hex()} of "
                                       f"{anchor.what}: history before it was rewritten")
            return False
    return True


def _leaf_problem(row, expected: int) -> str | None:
    if row["leaf_index"] != expected:
        return "the leaf is missing from the tree"
    if row["event_hash"] is None:
        return "the event was deleted"
    if event_leaf_hash(row["event_hash"]) != bytes(row["node_hash"]):
        return "the event's hash no longer matches its leaf"
    return None
