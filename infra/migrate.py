"""Run Alembic migrations programmatically (before any service starts)."""
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError, ProgrammingError

from infra import coordination
from infra.db import to_sqlalchemy_url

_HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations with the owner's rights (the URL's user), while holding the migrate lock
    (infra.coordination) on a second connection, so several starting replicas migrate once and
    no reader can hold them up. Its table must exist before the first migration: made here."""
    engine = create_engine(to_sqlalchemy_url(url))
    try:
        with engine.connect() as lock_conn, engine.connect() as conn:
            _ensure_lock_table(lock_conn)
            coordination.hold(lock_conn, coordination.MIGRATE)
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            lock_conn.rollback()
    finally:
        engine.dispose()


def _ensure_lock_table(conn) -> None:
    """Two replicas creating it at once: one of them gets a unique violation; then it exists."""
    for attempt in range(2):
        try:
            conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS coordination")
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS coordination.migrate ()")
            conn.commit()
            return
        except (IntegrityError, ProgrammingError):
            conn.rollback()
            if attempt:
                raise
