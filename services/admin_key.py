"""The first admin key: `dealtrail up` makes one when the database has no active admin key,
keeps it in `<data-dir>/admin.key` (mode 0600) and returns it: `up` prints
`admin API key: <key>` once (stdout, unprefixed: scripts grep it) at the end of its startup
lines. Later starts print nothing new and only say where it is."""
import logging
import os
import uuid
from pathlib import Path

from sqlalchemy import Engine

from services import keys

log = logging.getLogger("dealtrail.up")
FILE = "admin.key"


def ensure_admin_key(engine: Engine, data_dir: Path) -> str | None:
    """The new secret, or None when an admin key existed already."""
    path = Path(data_dir) / FILE
    if keys.has_admin(engine):
        where = f"in {path}" if path.exists() else "made earlier (not in this data dir)"
        log.info("admin API key %s; `dealtrail keys create` makes others", where)
        return None
    try:
        _, secret = keys.create(engine, "admin", keys.Role.ADMIN)
    except keys.NameTaken:  # "admin" names another key (another role, or revoked)
        _, secret = keys.create(engine, f"admin-{uuid.uuid4().hex[:6]}", keys.Role.ADMIN)
    write_secret(path, secret)
    log.info("admin API key written to %s (mode 0600)", path)
    return secret


def write_secret(path: Path, secret: str) -> None:
    """Created 0600 from the start: the secret is never readable by others, even briefly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    os.chmod(path, 0o600)
