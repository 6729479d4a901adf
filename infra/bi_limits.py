"""What a BI login may hold: statements end after `statement_seconds`, a transaction left idle
after `idle_seconds` (both as role settings, given to each login: PostgreSQL does not inherit role
settings from group roles such as bi_reader), and no temporary tables (TEMP is revoked from
PUBLIC on the database and granted back to the app role, whose snapshots use them).

A session may SET its own timeouts off; what the services depend on does not rest on these
(infra.coordination, projections.runtime.swap_wait). They keep an honest long query from holding locks."""
from dataclasses import dataclass

from psycopg2 import sql

APP_ROLE = "dealtrail_app"


@dataclass(frozen=True)
class BiLimits:
    statement_seconds: int = 30
    idle_seconds: int = 60


def limit_roles(cur, roles: list[str], limits: BiLimits) -> None:
    for role in roles:
        for setting, seconds in (("statement_timeout", limits.statement_seconds),
                                 ("idle_in_transaction_session_timeout", limits.idle_seconds)):
            cur.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(
                sql.Identifier(role), sql.Identifier(setting), sql.Literal(f"{int(seconds)}s")))


def no_temp_for_public(cur) -> None:
    """On the connection's database (privileges on a database are not copied from a template)."""
    cur.execute("SELECT current_database()")
    database = sql.Identifier(cur.fetchone()[0])
    cur.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(database))
    cur.execute(sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {}").format(database, sql.Identifier(APP_ROLE)))
