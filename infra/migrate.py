"""Run Alembic migrations programmatically (before any service starts)."""
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from infra.db import to_sqlalchemy_url

_HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations with the owner's rights (the URL's user), under an advisory lock so
    several starting replicas migrate once."""
    engine = create_engine(to_sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(hashtext('dealtrail.migrate'))")
            conn.commit()
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.exec_driver_sql("SELECT pg_advisory_unlock(hashtext('dealtrail.migrate'))")
            conn.commit()
    finally:
        engine.dispose()
