"""Tests' engines log in as the app role, like the services; admin work (rebuilds, tampering,
other roles) needs the schema owner's URL for the same database."""
from sqlalchemy.engine import make_url

_admin: dict[str, str] = {}


def register_admin(url: str) -> None:
    _admin["url"] = url


def owner_url(engine) -> str:
    """The owner's URL of `engine`'s database."""
    return make_url(_admin["url"]).set(database=engine.url.database).render_as_string(hide_password=False)


def as_role(engine, role: str):
    """An autocommit psycopg2 connection to `engine`'s database, as `role` (e.g. bi_reader)."""
    import psycopg2
    conn = psycopg2.connect(owner_url(engine).replace("postgresql+psycopg2://", "postgresql://"))
    conn.autocommit = True
    conn.cursor().execute(f"SET ROLE {role}")
    return conn
