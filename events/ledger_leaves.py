"""Do the tree's leaves still match the events? An O(n) streaming pass for auditors.

Consistency proofs only compare the tree with itself. A superuser who re-hashes a deal's chain
in events.event but leaves the audit tables alone keeps every proof valid, so `audit check`
also re-hashes each event into its leaf and compares it with the stored leaf node."""
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, text

from events.merkle import event_leaf_hash
from events.tables import event

_PAGE = text("""
SELECT l.leaf_index, l.position, l.event_id::text AS event_id, e.hash AS event_hash, n.hash AS node_hash
FROM audit.leaf l
JOIN audit.merkle_node n ON n.level = 0 AND n.idx = l.leaf_index
LEFT JOIN events.event e ON e.position = l.position AND e.event_id = l.event_id
WHERE l.leaf_index >= :start AND l.leaf_index < :end
ORDER BY l.leaf_index LIMIT :n
""")


@dataclass(frozen=True)
class StaleLeaf:
    leaf_index: int
    position: int | None
    event_id: str | None
    reason: str


def first_stale_leaf(conn: Connection, tree_size: int, last_position: int,
                     page: int = 10_000) -> StaleLeaf | None:
    """The first leaf below `tree_size` whose event is gone or re-hashed, or an event at or
    below `last_position` that is not in the tree (inserted into history); None if all match."""
    start = 0
    while start < tree_size:
        rows = conn.execute(_PAGE, {"start": start, "end": tree_size, "n": page}).mappings().all()
        if not rows or rows[0]["leaf_index"] != start:
            return StaleLeaf(start, None, None, "the leaf is missing from the tree")
        for expected, row in enumerate(rows, start):
            problem = _leaf_problem(row, expected)
            if problem:
                return StaleLeaf(expected, row["position"], row["event_id"], problem)
        start += len(rows)
    extra = conn.execute(select(func.count()).where(event.c.position <= last_position)).scalar()
    if extra != tree_size:
        return StaleLeaf(tree_size, None, None, f"{extra} events at or below position {last_position}, "
                                                f"but the tree has {tree_size}: events were inserted")
    return None


def _leaf_problem(row, expected: int) -> str | None:
    if row["leaf_index"] != expected:
        return "the leaf is missing from the tree"
    if row["event_hash"] is None:
        return "the event was deleted"
    if event_leaf_hash(row["event_hash"]) != bytes(row["node_hash"]):
        return "the event's hash no longer matches its leaf"
    return None
