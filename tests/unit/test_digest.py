"""Signed digests: round trip, tamper detection, key (de)serialization, extension proofs."""
import json
from datetime import datetime, timezone

import pytest

from events import digest as d
from events import merkle
from events.canonical import canonical_json

ISSUED = datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc)
LEAVES = [merkle.leaf_hash(bytes([i]) * 32) for i in range(40)]


@pytest.fixture(scope="module")
def key():
    return d.generate_private_key()


def head(key, size, nodes=None, position=None):
    nodes = nodes or merkle.MemoryNodes(LEAVES)
    return d.sign_digest(key, tree_size=size, root_hash=merkle.tree_root(nodes, size),
                         last_position=size if position is None else position, issued_at=ISSUED)


def test_round_trip_through_json(key):
    digest = head(key, 17)
    assert set(digest) == {"tree_size", "root_hash", "last_position", "issued_at", "key_id", "signature"}
    assert digest["issued_at"] == "2026-11-23T20:00:00.000000Z"
    saved = json.loads(json.dumps(digest, indent=2))
    assert d.check_digest(saved, d.public_key_hex(key)) is None
    assert d.verify_digest(saved, key.public_key())


def test_signed_bytes_are_the_canonical_json_without_signature(key):
    digest = head(key, 5)
    payload = canonical_json({k: v for k, v in digest.items() if k != "signature"}).encode()
    assert d.signing_payload(digest) == payload
    assert payload.startswith(b'{"issued_at":"2026-11-23T20:00:00.000000Z","key_id":"')
    key.public_key().verify(bytes.fromhex(digest["signature"]), payload)  # raises if wrong


@pytest.mark.parametrize("field,value", [
    ("tree_size", 18), ("root_hash", "00" * 32), ("last_position", 99),
    ("issued_at", "2026-11-23T20:00:01.000000Z"), ("key_id", "0" * 16),
    ("signature", "00" * 64), ("extra", "field"),
])
def test_any_change_is_detected(key, field, value):
    tampered = {**head(key, 17), field: value}
    assert not d.verify_digest(tampered, d.public_key_hex(key))


def test_flipped_signature_bit_is_detected(key):
    digest = head(key, 17)
    sig = bytearray.fromhex(digest["signature"])
    sig[10] ^= 1
    assert d.check_digest({**digest, "signature": sig.hex()}, d.public_key_hex(key)) == \
        "signature does not match the digest"


def test_other_key_is_refused_by_key_id(key):
    other = d.generate_private_key()
    problem = d.check_digest(head(key, 3), d.public_key_hex(other))
    assert problem.startswith(f"digest was signed by key {d.key_id(key)}")


@pytest.mark.parametrize("broken", [
    {}, {"tree_size": -1}, {"tree_size": True}, {"tree_size": "3"}, {"root_hash": "AB" * 32},
    {"root_hash": "ab"}, {"signature": "xyz"}, {"issued_at": 5}, {"key_id": "short"},
])
def test_malformed_digests_are_refused(key, broken):
    digest = {**head(key, 3), **broken} if broken else {"tree_size": 3}
    assert d.check_digest(digest, d.public_key_hex(key)) is not None


def test_sign_refuses_bad_input(key):
    with pytest.raises(ValueError):
        d.sign_digest(key, tree_size=-1, root_hash=b"\0" * 32, last_position=0, issued_at=ISSUED)
    with pytest.raises(ValueError):
        d.sign_digest(key, tree_size=1, root_hash=b"\0" * 31, last_position=0, issued_at=ISSUED)
    with pytest.raises(ValueError):
        d.sign_digest(key, tree_size=1, root_hash=b"\0" * 32, last_position=0,
                      issued_at=datetime(2026, 1, 1))


def test_private_key_round_trips(key):
    pem = d.private_key_to_pem(key)
    for stored in (pem, pem.decode(), d.private_key_to_hex(key)):
        assert d.public_key_hex(d.load_private_key(stored)) == d.public_key_hex(key)
    assert d.private_key_to_pem(key).startswith(b"-----BEGIN PRIVATE KEY-----")
    with pytest.raises(ValueError):
        d.load_private_key("abcd")


def test_public_key_document(key):
    doc = d.public_key_document(key)
    assert doc == {"key_id": d.key_id(d.public_key_hex(key)), "algorithm": "ed25519",
                   "public_key": d.public_key_hex(key)}
    assert len(doc["public_key"]) == 64 and len(doc["key_id"]) == 16
    assert d.public_key_hex(d.public_key_from_hex(doc["public_key"])) == doc["public_key"]
    with pytest.raises(ValueError):
        d.public_key_from_hex("ab" * 31)


def test_a_later_digest_extends_a_saved_one(key):
    nodes = merkle.MemoryNodes(LEAVES)
    older, newer = head(key, 13, nodes), head(key, 40, nodes)
    proof = [h.hex() for h in merkle.consistency_proof(nodes, 13, 40)]
    assert d.verify_extension(older, newer, proof)
    assert not d.verify_extension(newer, older, proof)
    assert not d.verify_extension(older, newer, proof[:-1])
    assert not d.verify_extension(older, newer, ["zz"])


def test_a_consistent_rewrite_after_a_saved_digest_is_caught(key):
    """A superuser rewrites leaf 7 and rebuilds every stored node and digest consistently:
    the new head is validly signed, but cannot be proven to extend the digest saved before."""
    honest = merkle.MemoryNodes(LEAVES)
    saved = head(key, 13, honest)
    rewritten = list(LEAVES)
    rewritten[7] = merkle.leaf_hash(b"rewritten")
    forged = merkle.MemoryNodes(rewritten)
    newer = head(key, 40, forged)
    assert d.verify_digest(newer, d.public_key_hex(key))
    assert not d.verify_extension(saved, newer, merkle.consistency_proof(forged, 13, 40))
    assert merkle.first_difference(13, honest, forged) == 7
