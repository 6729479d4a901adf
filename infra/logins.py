"""Login roles, so the services never hold the owner's rights.

Services (api, relay, project, watch, verify) log in as `dealtrail_app` itself. Logging in as the
owner and running `SET ROLE dealtrail_app` is not enough: any statement can `RESET ROLE` back to
the owner (a superuser in embedded mode), so one SQL injection or bug would act as superuser.
BI tools log in as `dealtrail_bi`, a member of `bi_reader`. Admin commands (migrate, rebuild,
replay) keep the owner's URL.

Passwords: embedded mode generates them once into `<data-dir>/secrets.json` (mode 0600); with an
external DATABASE_URL the operator gives DEALTRAIL_APP_DATABASE_URL (a login provisioned by
them) or DEALTRAIL_APP_PASSWORD / DEALTRAIL_BI_PASSWORD, which `migrate`/`up` set on the roles."""
import json
import logging
import os
import re
import secrets
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import encrypt_password
from sqlalchemy.engine import make_url

from infra.bi_limits import BiLimits, limit_roles, no_temp_for_public

APP_LOGIN = "dealtrail_app"
BI_LOGIN = "dealtrail_bi"
BI_GROUP = "bi_reader"
SECRETS_FILE = "secrets.json"

log = logging.getLogger("dealtrail.logins")


@dataclass(frozen=True)
class Passwords:
    app: str | None
    bi: str | None


def generate() -> Passwords:
    return Passwords(app=secrets.token_urlsafe(32), bi=secrets.token_urlsafe(32))


def load_or_create(data_dir: Path) -> Passwords:
    """The embedded instance's passwords, generated on first start (the file is 0600, like admin.key)."""
    path = Path(data_dir) / SECRETS_FILE
    if path.exists():
        stored = json.loads(path.read_text())
        return Passwords(app=stored["app"], bi=stored["bi"])
    passwords = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({**asdict(passwords), "app_user": APP_LOGIN, "bi_user": BI_LOGIN}, out, indent=2)
    return passwords


def login_url(url: str, user: str, password: str | None) -> str:
    """`url` (host, database, options) with another user and password."""
    return make_url(url).set(username=user, password=password).render_as_string(hide_password=False)


def provision(owner_url: str, passwords: Passwords) -> None:
    """As the owner: make the app and BI roles LOGIN with these passwords (idempotent; the
    roles themselves and their grants come from the migrations). Passwords are hashed here
    (SCRAM), so the plain text never reaches the server or its logs."""
    dsn = make_url(owner_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            if passwords.app:
                _login(cur, conn, APP_LOGIN, passwords.app)
            if passwords.bi:
                _ensure_bi_role(cur)
                _login(cur, conn, BI_LOGIN, passwords.bi)
    finally:
        conn.close()


def _login(cur, conn, role: str, password: str) -> None:
    hashed = encrypt_password(password, role, conn, "scram-sha-256")
    cur.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
        sql.Identifier(role), sql.Literal(hashed)))


def _ensure_bi_role(cur) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (BI_LOGIN,))
    if cur.fetchone() is None:
        cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE {}").format(
            sql.Identifier(BI_LOGIN), sql.Identifier(BI_GROUP)))


def service_url(owner_url: str | None, app_database_url: str | None, app_password: str | None) -> str | None:
    """The URL the services connect with: DEALTRAIL_APP_DATABASE_URL as given; else DATABASE_URL
    with the app login and DEALTRAIL_APP_PASSWORD; else DATABASE_URL itself (with a warning
    unless its user is the app login: the owner would hold the app role only through SET ROLE)."""
    if app_database_url:
        return app_database_url
    if owner_url and app_password:
        return login_url(owner_url, APP_LOGIN, app_password)
    if owner_url and make_url(owner_url).username != APP_LOGIN:
        log.warning("services connect as the DATABASE_URL user with SET ROLE %s only; set "
                    "DEALTRAIL_APP_PASSWORD or DEALTRAIL_APP_DATABASE_URL so they log in as the app role",
                    APP_LOGIN)
    return owner_url


def _plain(secret) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def for_services(settings, owner_url: str | None = None) -> str | None:
    """The services' URL from the settings (DEALTRAIL_APP_DATABASE_URL, DATABASE_URL,
    DEALTRAIL_APP_PASSWORD); None if none is configured."""
    return service_url(owner_url or settings.database_url, settings.app_database_url,
                       _plain(settings.app_password))


DEFAULT_LIMITS = BiLimits()


def limits_of(settings) -> BiLimits:
    return BiLimits(settings.bi_statement_timeout, settings.bi_idle_timeout)


def limit_bi(owner_url: str, limits: BiLimits) -> None:
    """As the owner: the BI limits (infra.bi_limits) on dealtrail_bi and every `bi-login create`
    login, and no TEMP for PUBLIC on this database (idempotent; `migrate` and `up` run it)."""
    with _owner(owner_url) as (_, cur):
        cur.execute("SELECT rolname FROM pg_roles WHERE rolname = %s OR shobj_description(oid, 'pg_authid') = %s",
                    (BI_LOGIN, BI_LOGIN_MARK))
        limit_roles(cur, [name for (name,) in cur.fetchall()], limits)
        no_temp_for_public(cur)


def prepare(settings, owner_url: str, *, embedded: bool) -> str:
    """After the migrations, as the owner: give the login roles their passwords (embedded: from
    `<data-dir>/secrets.json`, created on first start; external: the configured ones, if any)
    and BI logins their limits. Returns the URL the services connect with."""
    if embedded:
        passwords = load_or_create(settings.data_dir)
        provision(owner_url, passwords)
        limit_bi(owner_url, limits_of(settings))
        return login_url(owner_url, APP_LOGIN, passwords.app)
    passwords = Passwords(app=_plain(settings.app_password), bi=_plain(settings.bi_password))
    if passwords.app or passwords.bi:
        provision(owner_url, passwords)
    limit_bi(owner_url, limits_of(settings))
    return for_services(settings, owner_url)


# `dealtrail bi-login`: one LOGIN role per BI tool or analyst, each a member of bi_reader (SELECT
# on read_models only), marked by its comment so `list` and `drop` touch no other role.
BI_LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
BI_LOGIN_MARK = "dealtrail bi-login"
RESERVED = frozenset({APP_LOGIN, BI_LOGIN, BI_GROUP, "postgres", "dealtrail_owner"})


class BadLogin(ValueError):
    pass


def create_bi_login(owner_url: str, name: str, limits: BiLimits = DEFAULT_LIMITS) -> str:
    """A new LOGIN role in bi_reader with a generated password (returned; stored only as SCRAM),
    with the BI limits (infra.bi_limits)."""
    if not BI_LOGIN_NAME.match(name) or name in RESERVED or name.startswith("pg_"):
        raise BadLogin(f"login name {name!r}: lower-case letters, digits and _ (not a reserved role)")
    password = secrets.token_urlsafe(24)
    with _owner(owner_url) as (conn, cur):
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
        if cur.fetchone() is not None:
            raise BadLogin(f"a role named {name!r} exists already")
        hashed = encrypt_password(password, name, conn, "scram-sha-256")
        cur.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            sql.Identifier(name), sql.Literal(hashed), sql.Identifier(BI_GROUP)))
        cur.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(sql.Identifier(name), sql.Literal(BI_LOGIN_MARK)))
        limit_roles(cur, [name], limits)
    return password


def tcp_address(owner_url: str) -> tuple[str, int] | None:
    """Where the server listens on TCP, from its own settings (its first listen address; the
    embedded one listens on 127.0.0.1 only, with `up --pg-port`); None on no TCP address."""
    with _owner(owner_url) as (_, cur):
        cur.execute("SELECT current_setting('listen_addresses'), current_setting('port')::int")
        addresses, port = cur.fetchone()
    first = addresses.split(",")[0].strip()
    if not first:
        return None
    return ("127.0.0.1" if first in ("*", "0.0.0.0", "localhost") else first), port


def bi_logins(owner_url: str) -> list[str]:
    with _owner(owner_url) as (_, cur):
        cur.execute("SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = %s ORDER BY 1",
                    (BI_LOGIN_MARK,))
        return [name for (name,) in cur.fetchall()]


def drop_bi_login(owner_url: str, name: str) -> None:
    if name not in bi_logins(owner_url):
        raise BadLogin(f"no BI login named {name!r}")
    with _owner(owner_url) as (_, cur):
        cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@contextmanager
def _owner(owner_url: str):
    conn = psycopg2.connect(make_url(owner_url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            yield conn, cur
    finally:
        conn.close()
