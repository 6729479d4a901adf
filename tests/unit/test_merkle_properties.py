"""Property tests: the node-table implementation agrees with the RFC 9162 definitions written
out literally, every proof verifies, and any rewritten leaf is caught and located."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import merkle

MAX_SIZE = 300


def leaves(n, salt=b""):
    return [merkle.leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


# RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 as written: recursive, over a list of leaf hashes.
def mth(d):
    if not d:
        return merkle.EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = merkle.split_point(len(d))
    return merkle.node_hash(mth(d[:k]), mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = merkle.split_point(len(d))
    return path(m, d[:k]) + [mth(d[k:])] if m < k else path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    if m == len(d):
        return [] if b else [mth(d)]
    k = merkle.split_point(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m, d):
    return subproof(m, d, True) if 0 < m < len(d) else []


LOG = leaves(MAX_SIZE)
NODES = merkle.MemoryNodes(LOG)
sizes = st.integers(1, MAX_SIZE)


@st.composite
def size_and_index(draw):
    n = draw(sizes)
    return n, draw(st.integers(0, n - 1))


@st.composite
def two_sizes(draw):
    n = draw(sizes)
    return draw(st.integers(0, n)), n


def test_frontier_root_equals_full_root_for_every_size():
    frontier = merkle.Frontier()
    assert frontier.root() == mth([])
    for n in range(1, MAX_SIZE + 1):
        frontier.append(LOG[n - 1])
        assert frontier.root() == mth(LOG[:n]) == merkle.tree_root(NODES, n), n
        assert len(frontier.to_json()["hashes"]) <= n.bit_length()


def test_append_reports_every_perfect_node_once():
    table = {}
    frontier = merkle.Frontier()
    for leaf in LOG:
        for level, index, h in frontier.append(leaf):
            assert (level, index) not in table
            table[(level, index)] = h
    for level in range(MAX_SIZE.bit_length()):
        width = 1 << level
        for index in range(MAX_SIZE // width):
            assert table.pop((level, index)) == mth(LOG[index * width:(index + 1) * width])
    assert not table


@given(sizes, sizes)
def test_frontier_survives_json_between_batches(n, more):
    frontier = merkle.Frontier()
    frontier.extend(LOG[:n])
    stored = json.dumps(frontier.to_json())
    resumed = merkle.Frontier.from_json(stored)
    batch = leaves(more, salt=b"next")
    resumed.extend(batch)
    assert resumed.size == n + more
    assert resumed.root() == mth(LOG[:n] + batch)


@given(size_and_index())
def test_inclusion_proof_is_the_rfc_path_and_verifies(case):
    n, m = case
    audit_path = merkle.inclusion_proof(NODES, m, n)
    assert audit_path == path(m, LOG[:n])
    assert merkle.verify_inclusion(m, n, LOG[m], audit_path, mth(LOG[:n]))


@given(two_sizes())
def test_consistency_proof_is_the_rfc_proof_and_verifies(case):
    m, n = case
    p = merkle.consistency_proof(NODES, m, n)
    assert p == proof(m, LOG[:n])
    assert merkle.verify_consistency(m, n, mth(LOG[:m]), mth(LOG[:n]), p)


@given(size_and_index(), st.data())
def test_a_changed_leaf_breaks_inclusion(case, data):
    n, changed = case
    forged = list(LOG[:n])
    forged[changed] = merkle.leaf_hash(b"forged")
    forged_nodes = merkle.MemoryNodes(forged)
    m = data.draw(st.integers(0, n - 1))
    honest_root = mth(LOG[:n])
    forged_path = merkle.inclusion_proof(forged_nodes, m, n)
    assert not merkle.verify_inclusion(m, n, forged[m], forged_path, honest_root)
    assert merkle.first_difference(n, NODES, forged_nodes) == changed


@given(two_sizes(), st.data())
def test_a_rewrite_before_a_saved_digest_breaks_consistency(case, data):
    """A saved (size, root) pins the first `first` leaves: rewriting any of them and extending
    the log yields no consistency proof that verifies; a change after `first` is allowed."""
    first, second = case
    changed = data.draw(st.integers(0, second - 1))
    saved_root = mth(LOG[:first])
    rewritten = list(LOG[:second])
    rewritten[changed] = merkle.leaf_hash(b"rewritten")
    nodes = merkle.MemoryNodes(rewritten)
    p = merkle.consistency_proof(nodes, first, second)
    ok = merkle.verify_consistency(first, second, saved_root, merkle.tree_root(nodes, second), p)
    assert ok is (changed >= first)
    if not ok:
        assert merkle.first_difference(first, NODES, nodes) == changed


def test_first_difference_of_equal_trees_is_none():
    assert merkle.first_difference(MAX_SIZE, NODES, merkle.MemoryNodes(LOG)) is None
    assert merkle.first_difference(0, NODES, NODES) is None


@settings(max_examples=50)
@given(st.integers(1, 1 << 40), st.data())
def test_proofs_cost_logarithmic_lookups(n, data):
    """A stored-node table answers any proof in O(log n) look-ups (no leaf scan)."""
    calls = []

    def counting(level, index):
        calls.append((level, index))
        assert (index + 1) << level <= n
        return merkle.leaf_hash(f"{level}:{index}".encode())

    m = data.draw(st.integers(0, n - 1))
    merkle.inclusion_proof(counting, m, n)
    merkle.consistency_proof(counting, m, n)
    merkle.tree_root(counting, n)
    assert len(calls) <= 6 * n.bit_length() + 6


def test_frontier_rejects_malformed_json():
    for bad in ({"tree_size": 3, "hashes": ["00" * 32]},
                {"tree_size": 1, "hashes": ["00" * 31]},
                {"tree_size": -1, "hashes": []}, {"tree_size": "1", "hashes": ["00" * 32]},
                {"hashes": []}, "[]", {"tree_size": 1, "hashes": ["zz" * 32]}):
        with pytest.raises(ValueError):
            merkle.Frontier.from_json(bad)
    with pytest.raises(ValueError):
        merkle.Frontier().append(b"short")


@given(st.integers(0, MAX_SIZE))
def test_frontier_can_be_rebuilt_from_the_node_table(n):
    rebuilt = merkle.Frontier.at(NODES, n)
    assert rebuilt.root() == mth(LOG[:n])
    assert rebuilt.nodes() == [(level, index, NODES(level, index))
                               for level, index in merkle.perfect_subtrees(0, n)]
