"""RFC 9162 / Certificate Transparency test vectors.

Source: github.com/transparency-dev/merkle, proof/verify_test.go (`leaves`, `roots`,
`inclusionProofs`, `consistencyProofs`; the same vectors as google/certificate-transparency's
merkle_tree_test) and rfc6962/rfc6962_test.go (hasher vectors). Those tables number leaves from
1; here indexes are 0-based as in RFC 9162."""
import hashlib

import pytest

from events import merkle

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]

ROOTS = [bytes.fromhex(h) for h in (  # ROOTS[n - 1] is the root of the first n leaves
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]


def _h(*hexes):
    return [bytes.fromhex(h) for h in hexes]


INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 1, []),
    (0, 8, _h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (5, 8, _h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (2, 3, _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (1, 5, _h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
]

CONSISTENCY = [  # (first size, second size, proof)
    (1, 1, []),
    (1, 8, _h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (6, 8, _h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (2, 5, _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
    (6, 7, _h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


@pytest.fixture(scope="module")
def nodes():
    return merkle.MemoryNodes(merkle.leaf_hash(leaf) for leaf in LEAVES)


def test_hasher_vectors():
    assert merkle.EMPTY_ROOT.hex() == \
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.leaf_hash(b"").hex() == \
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert merkle.leaf_hash(b"L123456").hex() == \
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert merkle.node_hash(b"N123", b"N456").hex() == \
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"


@pytest.mark.parametrize("size", range(1, 9))
def test_roots(nodes, size):
    assert merkle.tree_root(nodes, size) == ROOTS[size - 1]
    assert merkle.root_of(merkle.leaf_hash(leaf) for leaf in LEAVES[:size]) == ROOTS[size - 1]


def test_empty_tree():
    assert merkle.root_of([]) == merkle.EMPTY_ROOT == merkle.Frontier().root()


@pytest.mark.parametrize("index,size,path", INCLUSION)
def test_inclusion_vectors(nodes, index, size, path):
    leaf = merkle.leaf_hash(LEAVES[index])
    assert merkle.inclusion_proof(nodes, index, size) == path
    assert merkle.verify_inclusion(index, size, leaf, path, ROOTS[size - 1])


@pytest.mark.parametrize("index,size,path", [v for v in INCLUSION if v[2]])
def test_inclusion_vectors_corrupted(index, size, path):
    """The corruptions of transparency-dev's corruptInclusionProof: none may verify."""
    leaf, root = merkle.leaf_hash(LEAVES[index]), ROOTS[size - 1]
    probes = [
        (index - 1, size, leaf, path, root), (index + 1, size, leaf, path, root),
        (index ^ 2, size, leaf, path, root), (index, size * 2, leaf, path, root),
        (index, size // 2, leaf, path, root), (index, size, b"WrongLeaf", path, root),
        (index, size, leaf, path, merkle.EMPTY_ROOT), (index, size, leaf, path, SOME_HASH),
        (index, size, leaf, path + [b""], root), (index, size, leaf, path + [root], root),
        (index, size, leaf, [b""] + path, root), (index, size, leaf, [root] + path, root),
        (index, size, leaf, path[:-1], root),
    ]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([path[i][0] ^ 8]) + path[i][1:]
        probes.append((index, size, leaf, flipped, root))
    if len(path) > 1:
        probes.append((index, size, leaf, [path[0], SOME_HASH] + path[1:], root))
    for probe in probes:
        assert not merkle.verify_inclusion(*probe), probe[:2]


@pytest.mark.parametrize("first,second,proof", CONSISTENCY)
def test_consistency_vectors(nodes, first, second, proof):
    assert merkle.consistency_proof(nodes, first, second) == proof
    assert merkle.verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], proof)


@pytest.mark.parametrize("first,second,proof", [v for v in CONSISTENCY if v[2]])
def test_consistency_vectors_corrupted(first, second, proof):
    """The corruptions of transparency-dev's corruptConsistencyProof: none may verify."""
    r1, r2 = ROOTS[first - 1], ROOTS[second - 1]
    probes = [
        (first - 1, second, r1, r2, proof), (first + 1, second, r1, r2, proof),
        (first ^ 2, second, r1, r2, proof), (first, second * 2, r1, r2, proof),
        (first, second // 2, r1, r2, proof), (first, second, b"WrongRoot", r2, proof),
        (first, second, r1, b"WrongRoot", proof), (first, second, r2, r1, proof),
        (first, second, r1, r2, []), (first, second, r1, r2, proof + [b""]),
        (first, second, r1, r2, proof + [r1]), (first, second, r1, r2, proof + [r2]),
        (first, second, r1, r2, [b""] + proof), (first, second, r1, r2, [r1] + proof),
        (first, second, r1, r2, [r2] + proof), (first, second, r1, r2, [proof[0]] + proof),
        (first, second, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([proof[i][0] ^ 16]) + proof[i][1:]
        probes.append((first, second, r1, r2, flipped))
    for probe in probes:
        assert not merkle.verify_consistency(*probe), probe[:2]


@pytest.mark.parametrize("first,second,r1,r2,proof,ok", [
    (0, 0, b"root 1", b"root 1", [], True),
    (0, 1, b"root 1", b"root 2", [], True),
    (1, 1, b"root 2", b"root 2", [], True),
    (0, 0, b"root 1", b"root 2", [merkle.EMPTY_ROOT], False),
    (1, 1, b"root 1", b"root 2", [], False),
    (1, 0, b"root 1", b"root 2", [], False),
    (2, 1, b"root 1", b"root 2", [], False),
    (1, 2, b"root 1", b"root 2", [], False),
    (0, 1, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [merkle.EMPTY_ROOT], False),
    (1, 1, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [merkle.EMPTY_ROOT], False),
])
def test_consistency_edge_cases(first, second, r1, r2, proof, ok):
    """transparency-dev TestVerifyConsistency: trivial sizes, time travel, empty proofs."""
    assert merkle.verify_consistency(first, second, r1, r2, proof) is ok


@pytest.mark.parametrize("index,size", [(0, 0), (1, 0), (1, 1), (2, 1), (7, 7)])
def test_inclusion_out_of_range(nodes, index, size):
    assert not merkle.verify_inclusion(index, size, SOME_HASH, [], SOME_HASH)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(nodes, index, size)


def test_single_leaf_tree():
    leaf = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(0, 1, leaf, [], leaf)
    assert not merkle.verify_inclusion(0, 1, b"", [], leaf)
    assert not merkle.verify_inclusion(0, 1, leaf, [], b"")


def test_event_leaf_hash_is_the_leaf_of_the_raw_hash_bytes():
    event_hash = hashlib.sha256(b"some envelope").hexdigest()
    expected = hashlib.sha256(b"\x00" + bytes.fromhex(event_hash)).digest()
    assert merkle.event_leaf_hash(event_hash) == expected
    with pytest.raises(ValueError):
        merkle.event_leaf_hash("abcd")
