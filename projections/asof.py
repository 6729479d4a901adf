"""Reports "as the system knew it then": the read models replayed from the events recorded up
to `as_of` into a schema of their own, kept for reuse (the newest few are kept)."""
from datetime import datetime

from sqlalchemy import Engine, text

from events.log_reader import settled_horizon
from projections import rebuild
from projections.schema import schema_name

KEEP = 16


def schema_for(engine: Engine, as_of: datetime) -> str:
    schema = f"asof_{int(as_of.timestamp() * 1_000_000)}"
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": schema})
        try:
            exists = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
            if not exists:
                rebuild.build(engine, schema, settled_horizon(engine), recorded_until=as_of)
                _prune(engine)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": schema})
            conn.commit()
    return schema


def _prune(engine: Engine) -> None:
    with engine.begin() as conn:
        names = conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'asof\\_%' "
                                  "ORDER BY pg_namespace.oid DESC")).scalars().all()
        for name in names[KEEP:]:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema_name(name)} CASCADE")


def position_of(engine: Engine, schema: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            f"SELECT coalesce(max(last_position), 0) FROM {schema_name(schema)}.deal_current").scalar()
