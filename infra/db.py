"""Engines. The application never holds more rights than the `dealtrail_app` role grants."""
from sqlalchemy import Engine, create_engine, event

from infra.jsontext import loads


def to_sqlalchemy_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, *, app_role: str | None = None, pool_size: int = 10) -> Engine:
    """An engine; with `app_role`, every connection runs `SET ROLE` so it holds only that role's rights."""
    engine = create_engine(
        to_sqlalchemy_url(url),
        connect_args={"options": "-c timezone=UTC"},  # calendar days and months are UTC everywhere
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_recycle=1800,
        pool_pre_ping=True,  # after a database restart, stale pooled connections are replaced, not used
        future=True,
        json_deserializer=loads,  # json/jsonb columns decoded by orjson (the stdlib's was a fifth of a rebuild)
    )
    if app_role:
        @event.listens_for(engine, "connect")
        def _set_role(dbapi_conn, _record):
            with dbapi_conn.cursor() as cur:
                cur.execute("SET ROLE %s" % _quote_ident(app_role))
            dbapi_conn.commit()
    return engine


def _quote_ident(name: str) -> str:
    """Role names come from configuration, never from requests; quote them anyway."""
    return '"' + name.replace('"', '""') + '"'
