"""Signed ledger digests (SPEC §5): a Merkle tree head signed with Ed25519, checkable offline.

A digest is `{tree_size, root_hash, last_position, issued_at, key_id, signature}`. The signed
message is the canonical JSON of the digest without `signature` (`events.canonical`: keys
sorted, separators `,` and `:` with no whitespace, UTF-8), so anyone re-encodes the same bytes
from the JSON they were given. `signature` is the 64-byte Ed25519 signature in hex; `key_id` is
the first 16 hex digits of SHA-256 over the raw 32-byte public key, which lets a verifier refuse
a digest signed by some other key before it checks a signature. `root_hash` is the RFC 9162
root of the first `tree_size` events in position order (`events.merkle`).

Keys: the private key is kept as unencrypted PKCS#8 PEM (or its raw 32 bytes in hex) in a file
the caller creates with mode 0600; the public key is published as 64 hex digits."""
import hashlib
import re
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events.canonical import canonical_json, format_ts
from events.merkle import verify_consistency

ALGORITHM = "ed25519"
SIGNED_FIELDS = ("tree_size", "root_hash", "last_position", "issued_at", "key_id")
_HEX = re.compile(r"[0-9a-f]*")


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_key_from_hex(value: str) -> Ed25519PublicKey:
    raw = bytes.fromhex(value)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes (64 hex digits)")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(public_key: str | Ed25519PrivateKey | Ed25519PublicKey) -> str:
    hex_key = public_key if isinstance(public_key, str) else public_key_hex(public_key)
    return hashlib.sha256(bytes.fromhex(hex_key)).hexdigest()[:16]


def public_key_document(key: Ed25519PrivateKey | Ed25519PublicKey) -> dict:
    """The body of `GET /v1/audit/public-key`."""
    return {"key_id": key_id(key), "algorithm": ALGORITHM, "public_key": public_key_hex(key)}


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def private_key_to_hex(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption()).hex()


def load_private_key(data: bytes | str) -> Ed25519PrivateKey:
    """Read a key written by `private_key_to_pem` or `private_key_to_hex`."""
    text = data.decode("ascii") if isinstance(data, bytes) else data
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return key
    raw = bytes.fromhex(text)
    if len(raw) != 32:
        raise ValueError("a raw Ed25519 private key is 32 bytes (64 hex digits)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def signing_payload(digest: dict) -> bytes:
    """The exact bytes that are signed: canonical JSON of the digest without `signature`."""
    return canonical_json({k: v for k, v in digest.items() if k != "signature"}).encode("utf-8")


def sign_digest(key: Ed25519PrivateKey, *, tree_size: int, root_hash: bytes | str,
                last_position: int, issued_at: datetime) -> dict:
    digest = {
        "tree_size": tree_size,
        "root_hash": root_hash.hex() if isinstance(root_hash, bytes) else root_hash.lower(),
        "last_position": last_position,
        "issued_at": format_ts(issued_at),
        "key_id": key_id(key),
    }
    problem = _shape_problem(digest)
    if problem:
        raise ValueError(problem)
    return {**digest, "signature": key.sign(signing_payload(digest)).hex()}


def check_digest(digest: dict, public_key: str | Ed25519PublicKey) -> str | None:
    """Why `digest` is not a valid digest signed by `public_key`, or None if it is."""
    problem = _shape_problem(digest)
    if problem:
        return problem
    signature = digest.get("signature")
    if not _is_hex(signature, 128):
        return "signature must be 128 lowercase hex digits"
    try:
        public = public_key_from_hex(public_key) if isinstance(public_key, str) else public_key
    except ValueError as exc:
        return f"bad public key: {exc}"
    if digest["key_id"] != key_id(public):
        return f"digest was signed by key {digest['key_id']}, not by key {key_id(public)}"
    try:
        public.verify(bytes.fromhex(signature), signing_payload(digest))
    except InvalidSignature:
        return "signature does not match the digest"
    return None


def verify_digest(digest: dict, public_key: str | Ed25519PublicKey) -> bool:
    return check_digest(digest, public_key) is None


def verify_extension(older: dict, newer: dict, proof: list[bytes | str]) -> bool:
    """Whether `proof` (RFC 9162 consistency proof, hashes raw or hex) shows that the log
    `newer` describes begins with the log `older` describes. Check both signatures first."""
    if _shape_problem(older) or _shape_problem(newer):
        return False
    try:
        path = [bytes.fromhex(h) if isinstance(h, str) else h for h in proof]
    except ValueError:
        return False
    return verify_consistency(older["tree_size"], newer["tree_size"], bytes.fromhex(older["root_hash"]),
                              bytes.fromhex(newer["root_hash"]), path)


def _shape_problem(digest: dict) -> str | None:
    if not isinstance(digest, dict):
        return "a digest is a JSON object"
    missing = [f for f in SIGNED_FIELDS if f not in digest]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    for name in ("tree_size", "last_position"):
        value = digest[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"{name} must be a non-negative integer"
    if not _is_hex(digest["root_hash"], 64):
        return "root_hash must be 64 lowercase hex digits"
    if not _is_hex(digest["key_id"], 16):
        return "key_id must be 16 lowercase hex digits"
    if not isinstance(digest["issued_at"], str):
        return "issued_at must be a timestamp string"
    return None


def _is_hex(value, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and _HEX.fullmatch(value) is not None
