"""RFC 9162 §2.1 Merkle tree over the event log, in position order: roots, proofs, frontier.

Layout. Leaf i is `leaf_hash(bytes.fromhex(event.hash))` = SHA-256(0x00 ‖ 32 raw bytes); an inner
node is SHA-256(0x01 ‖ left ‖ right); a tree of n leaves splits at k, the largest power of two
smaller than n (the RFC's shape, so a tree is never padded). The empty tree's root is SHA-256("").

Every node of a growing log that never changes again is the root of a *perfect* subtree: level
l, index i covers leaves [i·2^l, (i+1)·2^l). Those are the only hashes worth storing. Any other
range the RFC recursion meets starts on a boundary at least as large as itself, so its hash is
the fold of at most log2(n)+1 perfect subtrees. Proof builders therefore take a `NodeHash`
callback `(level, index) -> bytes` — backed by a table of stored nodes in production, by
`MemoryNodes` in tests — and cost O(log n) look-ups.

`Frontier` is the compact form of the log's right edge: the roots of the perfect subtrees that
make up n leaves (one per set bit of n). Appending a leaf merges equal-sized neighbours, gives
the root at once and reports every perfect node it completed, so a digest is extended batch by
batch (store the new nodes and the frontier in one transaction) without rescanning the log.

We hand-write this (~200 lines, checked against the transparency-dev/merkle test vectors)
rather than use pymerkle: it is GPL-3.0+ (we are Apache-2.0), owns its storage (memory or
SQLite), and its proofs are its own format (1-based index, base leaf plus rule bits), not
RFC 9162's audit path and consistency path."""
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence

# (level, index) -> the root of leaves [index·2^level, (index+1)·2^level)
NodeHash = Callable[[int, int], bytes]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def event_leaf_hash(event_hash: str) -> bytes:
    """Leaf hash of an event: its `hash` (64 hex digits) as 32 raw bytes."""
    raw = bytes.fromhex(event_hash)
    if len(raw) != 32:
        raise ValueError("an event hash is 32 bytes (64 hex digits)")
    return leaf_hash(raw)


def split_point(n: int) -> int:
    """The RFC's k: the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect subtrees, largest first, that tile [start, end) when
    start is aligned to a power of two >= end - start (true of every range in the RFC's tree)."""
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def range_root(nodes: NodeHash, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range of the RFC's tree, folded right to left."""
    if start == end:
        return EMPTY_ROOT
    hashes = [nodes(level, index) for level, index in perfect_subtrees(start, end)]
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def tree_root(nodes: NodeHash, size: int) -> bytes:
    return range_root(nodes, 0, size)


def inclusion_proof(nodes: NodeHash, leaf_index: int, tree_size: int) -> list[bytes]:
    """PATH(leaf_index, D[0:tree_size]) of RFC 9162 §2.1.3.1: the audit path, leaf side first."""
    if not 0 <= leaf_index < tree_size:
        raise ValueError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    path, start, end = [], 0, tree_size
    while end - start > 1:
        k = split_point(end - start)
        if leaf_index < start + k:
            path.append(range_root(nodes, start + k, end))
            end = start + k
        else:
            path.append(range_root(nodes, start, start + k))
            start += k
    return path[::-1]


def consistency_proof(nodes: NodeHash, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1 (empty when first is 0 or equals second)."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    path, start, end, m, complete = [], 0, second, first, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            path.append(range_root(nodes, start + k, end))
            end = start + k
        else:
            path.append(range_root(nodes, start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        path.append(range_root(nodes, start, end))
    return path[::-1]


def root_from_inclusion_proof(leaf_index: int, tree_size: int, leaf: bytes,
                              audit_path: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2 steps 1-5: the root the path leads to, or None if it is malformed."""
    if not 0 <= leaf_index < tree_size:
        return None
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in audit_path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(leaf_index: int, tree_size: int, leaf: bytes, audit_path: Sequence[bytes],
                     root: bytes) -> bool:
    """Whether `leaf` (a leaf hash) is leaf `leaf_index` of the tree of `tree_size` with `root`."""
    got = root_from_inclusion_proof(leaf_index, tree_size, leaf, audit_path)
    return got is not None and hmac.compare_digest(got, root)


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: whether the tree of `second` leaves begins with the tree of `first`.
    Size 0 is consistent with anything; equal sizes need equal roots and an empty proof."""
    if not 0 <= first <= second:
        return False
    if first == 0 or first == second:
        return not proof and (first == 0 or hmac.compare_digest(first_root, second_root))
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, first_root) and hmac.compare_digest(sr, second_root)


def first_difference(size: int, a: NodeHash, b: NodeHash) -> int | None:
    """Index of the first leaf where two trees of `size` leaves differ (None if equal): descend
    the RFC's shape, going left whenever the (perfect) left halves disagree. O(log n) look-ups.
    `audit check` uses it with `b` built from a trusted copy of the leaves (an old export, the
    events kept in Kafka) to name the first rewritten event."""
    start, end = 0, size
    if range_root(a, start, end) == range_root(b, start, end):
        return None
    while end - start > 1:
        k = split_point(end - start)
        if a(*_perfect(start, k)) != b(*_perfect(start, k)):
            end = start + k
        else:
            start += k
    return start


def _perfect(start: int, width: int) -> tuple[int, int]:
    level = width.bit_length() - 1
    return level, start >> level


class Frontier:
    """The right edge of a log: roots of its perfect subtrees, largest first (one per set bit
    of `size`). JSON form: {"tree_size": n, "hashes": [hex, ...]}."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        if not isinstance(size, int) or isinstance(size, bool):
            raise ValueError("tree_size must be an integer")
        if size < 0 or len(hashes) != size.bit_count() or any(len(h) != 32 for h in hashes):
            raise ValueError("a frontier of size n holds one 32-byte hash per set bit of n")
        self._size, self._hashes = size, list(hashes)

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the perfect nodes it completed as (level, index, hash),
        the leaf itself first. Amortized O(1) hashes, O(log n) at worst."""
        if len(leaf) != 32:
            raise ValueError("a leaf hash is 32 bytes")
        index, h, level = self._size, leaf, 0
        completed = [(0, index, leaf)]
        while (index >> level) & 1:
            h = node_hash(self._hashes.pop(), h)
            level += 1
            completed.append((level, index >> level, h))
        self._hashes.append(h)
        self._size += 1
        return completed

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        return [node for leaf in leaves for node in self.append(leaf)]

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        acc = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            acc = node_hash(h, acc)
        return acc

    def nodes(self) -> list[tuple[int, int, bytes]]:
        """The frontier as (level, index, hash), largest subtree first."""
        return [(level, index, h) for (level, index), h
                in zip(perfect_subtrees(0, self._size), self._hashes)]

    def to_json(self) -> dict:
        return {"tree_size": self._size, "hashes": [h.hex() for h in self._hashes]}

    @classmethod
    def from_json(cls, data: dict | str) -> "Frontier":
        try:
            if isinstance(data, str):
                data = json.loads(data)
            return cls(data["tree_size"], [bytes.fromhex(h) for h in data["hashes"]])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a frontier: {exc!r}") from exc

    @classmethod
    def at(cls, nodes: NodeHash, size: int) -> "Frontier":
        """The frontier of the first `size` leaves, read from a node table (O(log n))."""
        return cls(size, [nodes(level, index) for level, index in perfect_subtrees(0, size)])


class MemoryNodes:
    """A `NodeHash` over an in-memory log holding every perfect node, exactly what a table
    keyed by (level, index) filled from `Frontier.append` holds. For tests and offline checks."""

    def __init__(self, leaves: Iterable[bytes] = ()):
        self.frontier, self.table = Frontier(), {}
        self.extend(leaves)

    @property
    def size(self) -> int:
        return self.frontier.size

    def extend(self, leaves: Iterable[bytes]) -> None:
        for level, index, h in self.frontier.extend(leaves):
            self.table[(level, index)] = h

    def __call__(self, level: int, index: int) -> bytes:
        return self.table[(level, index)]


def root_of(leaves: Iterable[bytes]) -> bytes:
    """Root of the tree whose leaf hashes are `leaves` (already `leaf_hash`ed), in O(n)."""
    frontier = Frontier()
    frontier.extend(leaves)
    return frontier.root()
