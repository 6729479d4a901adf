"""Where the digest signing key lives: DEALTRAIL_AUDIT_KEY_FILE, else `<data-dir>/audit.key`.

Generated on first use (PKCS#8 PEM, mode 0600, created exclusively so an API and a watcher
starting together end up with the same key). Several hosts must share one key file: a key per
host would sign digests no auditor can tell apart from forgeries."""
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.digest import generate_private_key, load_private_key, private_key_to_pem

KEY_FILE = "audit.key"


def key_path(settings) -> Path:
    return Path(settings.audit_key_file or Path(settings.data_dir) / KEY_FILE)


def load_or_create(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return load_private_key(path.read_bytes())
    key = generate_private_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_key_to_pem(key))
    try:
        os.link(tmp, path)  # atomic, and fails if another process got there first: use theirs
    except FileExistsError:
        key = load_private_key(path.read_bytes())
    finally:
        tmp.unlink()
    return key


def signing_key(settings) -> Ed25519PrivateKey:
    return load_or_create(key_path(settings))
