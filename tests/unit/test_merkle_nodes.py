"""Which stored nodes a proof reads: exactly the node IDs of transparency-dev/merkle's
proof/proof_test.go (TestInclusion, TestConsistency), where NodeID(level, index) covers leaves
[index·2^level, (index+1)·2^level) — the key of the subtree-hash table the API will read."""
import pytest

from events import merkle

INCLUSION = [  # (index, size, node IDs)
    (0, 1, []), (0, 2, [(0, 1)]), (1, 2, [(0, 0)]), (1, 3, [(0, 0), (0, 2)]),
    (0, 7, [(0, 1), (1, 1), (0, 6), (1, 2)]), (1, 7, [(0, 0), (1, 1), (0, 6), (1, 2)]),
    (2, 7, [(0, 3), (1, 0), (0, 6), (1, 2)]), (3, 7, [(0, 2), (1, 0), (0, 6), (1, 2)]),
    (4, 7, [(0, 5), (0, 6), (2, 0)]), (5, 7, [(0, 4), (0, 6), (2, 0)]), (6, 7, [(1, 2), (2, 0)]),
    (2, 4, [(0, 3), (1, 0)]), (3, 5, [(0, 2), (1, 0), (0, 4)]), (3, 6, [(0, 2), (1, 0), (1, 2)]),
    (4, 6, [(0, 5), (2, 0)]),
    (10, 15, [(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)]),
    (24, 31, [(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)]),
    (81, 95, [(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)]),
]

CONSISTENCY = [  # (first, second, node IDs)
    (1, 2, [(0, 1)]), (1, 4, [(0, 1), (1, 1)]), (1, 6, [(0, 1), (1, 1), (1, 2)]),
    (2, 3, [(0, 2)]), (2, 8, [(1, 1), (2, 1)]),
    (3, 7, [(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)]), (4, 7, [(0, 6), (1, 2)]),
    (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)]), (6, 7, [(1, 2), (0, 6), (2, 0)]),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)]),
    (1, 1, []), (2, 2, []), (3, 3, []), (4, 4, []), (5, 5, []), (7, 7, []), (8, 8, []),
    (2, 4, [(1, 1)]), (3, 5, [(0, 2), (0, 3), (1, 0), (0, 4)]),
    (3, 6, [(0, 2), (0, 3), (1, 0), (1, 2)]), (4, 6, [(1, 2)]),
    (1, 7, [(0, 1), (1, 1), (0, 6), (1, 2)]),
    (10, 15, [(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)]),
    (24, 31, [(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)]),
    (81, 95, [(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)]),
]


def recording(size):
    nodes, reads = merkle.MemoryNodes(merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(size)), []

    def read(level, index):
        reads.append((level, index))
        return nodes(level, index)
    return read, reads


@pytest.mark.parametrize("index,size,ids", INCLUSION)
def test_inclusion_reads_exactly_these_nodes(index, size, ids):
    read, reads = recording(size)
    merkle.inclusion_proof(read, index, size)
    assert sorted(reads) == sorted(ids)


@pytest.mark.parametrize("first,second,ids", CONSISTENCY)
def test_consistency_reads_exactly_these_nodes(first, second, ids):
    read, reads = recording(second)
    merkle.consistency_proof(read, first, second)
    assert sorted(reads) == sorted(ids)


def test_consistency_arguments():
    read, _ = recording(8)
    assert merkle.consistency_proof(read, 0, 0) == merkle.consistency_proof(read, 0, 5) == []
    for first, second in ((1, 0), (9, 8), (-1, 3)):
        with pytest.raises(ValueError):
            merkle.consistency_proof(read, first, second)
