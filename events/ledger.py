"""The Merkle tree of the log, kept in PostgreSQL (audit schema): extended batch by batch, read
with O(log n) node look-ups for roots and proofs.

`extend` follows `read_committed` from the frontier's last position, so the tree is the log in
position order with no late commit skipped: a position is added only once everything before it
has committed or rolled back for good. Each batch adds its completed perfect nodes, its leaves'
indexes and the new frontier in one transaction under a coordination lock (infra.coordination:
one extender at a time, none a reader can hold; the others wait and then find the work done).
Nothing is ever rescanned: a batch of b events costs b leaf hashes, about b inner hashes and ~2b
inserted node rows."""
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select, text, tuple_

from events.ledger_tables import leaf, merkle_frontier, merkle_node
from events.log_reader import read_committed
from events.merkle import Frontier, consistency_proof, event_leaf_hash, inclusion_proof, tree_root
from infra import coordination

LOCK_KEY = coordination.LEDGER
_PLACEHOLDER = bytes(32)


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    last_position: int


def extend(engine: Engine, batch: int = 2000, wait_seconds: float = 2.0) -> TreeHead:
    """Add every committed event not yet in the tree; return the tree's head."""
    while True:
        head, added = _extend_once(engine, batch, wait_seconds)
        if added < batch:
            return head


def _extend_once(engine: Engine, batch: int, wait_seconds: float) -> tuple[TreeHead, int]:
    with engine.begin() as conn:
        # Before any write: this transaction has no xid yet, so read_committed never waits on it.
        coordination.hold(conn, LOCK_KEY)
        row = conn.execute(select(merkle_frontier)).mappings().one()
        frontier = Frontier.from_json(row["frontier"])
        page = read_committed(engine, row["last_position"], batch, wait_seconds)
        if not page.envelopes:
            return TreeHead(frontier.size, frontier.root(), row["last_position"]), 0
        _append(conn, frontier, page.envelopes)
        conn.execute(merkle_frontier.update().values(
            tree_size=frontier.size, last_position=page.through, frontier=frontier.to_json(),
            updated_at=func.now()))
        return TreeHead(frontier.size, frontier.root(), page.through), len(page.envelopes)


_INSERT_NODES = text("INSERT INTO audit.merkle_node (level, idx, hash) "
                     "SELECT * FROM unnest(CAST(:level AS smallint[]), CAST(:idx AS bigint[]), "
                     "CAST(:hash AS bytea[]))")
_INSERT_LEAVES = text("INSERT INTO audit.leaf (leaf_index, position, event_id) "
                      "SELECT * FROM unnest(CAST(:leaf_index AS bigint[]), CAST(:position AS bigint[]), "
                      "CAST(:event_id AS uuid[]))")


def _append(conn: Connection, frontier: Frontier, envelopes) -> None:
    """One INSERT of arrays per table (unnest): a multi-row VALUES costs several times more."""
    first = frontier.size
    nodes = frontier.extend(event_leaf_hash(env.hash) for env in envelopes)
    conn.execute(_INSERT_NODES, {"level": [n[0] for n in nodes], "idx": [n[1] for n in nodes],
                                 "hash": [n[2] for n in nodes]})
    conn.execute(_INSERT_LEAVES, {"leaf_index": list(range(first, first + len(envelopes))),
                                  "position": [env.position for env in envelopes],
                                  "event_id": [str(env.event_id) for env in envelopes]})


def head(conn: Connection) -> TreeHead:
    """The tree as last extended (no extension here)."""
    row = conn.execute(select(merkle_frontier)).mappings().one()
    frontier = Frontier.from_json(row["frontier"])
    return TreeHead(frontier.size, frontier.root(), row["last_position"])


def with_nodes(conn: Connection, compute):
    """`compute(node_hash)` with every node it needs fetched in one query. The nodes a root or
    proof needs depend on sizes and indexes only, never on hash values, so a first pass with
    placeholder hashes names them all."""
    wanted: set[tuple[int, int]] = set()
    compute(lambda level, idx: wanted.add((level, idx)) or _PLACEHOLDER)
    found = fetch_nodes(conn, wanted)
    return compute(lambda level, idx: found[(level, idx)])


def fetch_nodes(conn: Connection, keys) -> dict[tuple[int, int], bytes]:
    keys = list(keys)
    if not keys:
        return {}
    rows = conn.execute(select(merkle_node.c.level, merkle_node.c.idx, merkle_node.c.hash)
                        .where(tuple_(merkle_node.c.level, merkle_node.c.idx).in_(keys)))
    found = {(r.level, r.idx): bytes(r.hash) for r in rows}
    missing = set(keys) - found.keys()
    if missing:
        raise LookupError(f"audit.merkle_node lacks nodes {sorted(missing)[:5]}")
    return found


def table_nodes(conn: Connection):
    """A `NodeHash` reading one node per call (for adaptive searches such as first_difference)."""
    return lambda level, idx: fetch_nodes(conn, [(level, idx)])[(level, idx)]


def root_at(conn: Connection, size: int) -> bytes:
    return with_nodes(conn, lambda nodes: tree_root(nodes, size))


def inclusion(conn: Connection, leaf_index: int, tree_size: int) -> list[bytes]:
    return with_nodes(conn, lambda nodes: inclusion_proof(nodes, leaf_index, tree_size))


def consistency(conn: Connection, first: int, second: int) -> list[bytes]:
    return with_nodes(conn, lambda nodes: consistency_proof(nodes, first, second))


def leaf_of(conn: Connection, event_id: str) -> int | None:
    """The event's leaf index (one indexed look-up), None if it is not in the tree."""
    return conn.execute(select(leaf.c.leaf_index).where(leaf.c.event_id == event_id)).scalar()


def leaf_row(conn: Connection, leaf_index: int) -> dict | None:
    row = conn.execute(select(leaf).where(leaf.c.leaf_index == leaf_index)).mappings().first()
    return dict(row) if row else None
