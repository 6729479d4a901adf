"""Rebuild the sales read models from events.event into fresh tables and swap them in (BI
never sees a half-built table), or replay them as they were into a separate schema."""
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine, text

from events.log_reader import read_committed, settled_horizon
from events.streams import is_deal_stream
from domain.pipelines import known
from events.store import pipeline_stage_lists
from projections import aggregates, checkpoints, sales, tables
from projections.derive import derive
from projections.schema import SALES_TABLES, schema_name
from projections.loop import derive_stream
from projections.quarantine import as_rows, guarded, refused, stream_failure
from projections.writer import copy_rows, copy_tables

log = logging.getLogger("dealtrail.rebuild")
BUILD_SCHEMA = "read_models_build"
CHUNK_DEALS = 2000
PROGRESS_EVERY = 5000

Progress = Callable[[int], None]

_SCAN = """
SELECT deal_id, event_id::text, type, stream_version, position, occurred_at, data, schema_version
FROM events.event WHERE position <= %(upto)s {recorded} ORDER BY deal_id, stream_version
"""


def count_events(engine: Engine, upto: int, recorded_until: datetime | None = None) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM events.event WHERE position <= :p "
                                 "AND (CAST(:t AS timestamptz) IS NULL OR recorded_at <= :t)"),
                            {"p": upto, "t": recorded_until}).scalar()


def create_tables(conn: Connection, schema: str) -> None:
    """The sales tables, as declared (columns, keys, indexes, comments), and the aggregate views
    over them, in a fresh `schema`."""
    s = schema_name(schema)
    conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {s} CASCADE")
    conn.exec_driver_sql(f"CREATE SCHEMA {s}")
    declared = [tables.metadata.tables[f"{tables.SCHEMA}.{t}"] for t in SALES_TABLES]
    tables.metadata.create_all(conn.execution_options(schema_translate_map={tables.SCHEMA: s}),
                               tables=declared)
    for view in tables.AGGREGATE_VIEWS:  # reports read a replay schema's aggregates through them
        for statement in view.statements(s):
            conn.exec_driver_sql(statement.replace("%", "%%"))


def build(engine: Engine, schema: str, upto: int, recorded_until: datetime | None = None,
          progress: Progress | None = None) -> None:
    """Fill fresh tables in `schema` from every event at or below position `upto` (and
    recorded by `recorded_until`, if given). Streams the log: memory stays flat."""
    with engine.begin() as conn:
        create_tables(conn, schema)
    recorded = "AND recorded_at <= %(until)s" if recorded_until else ""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor(name="dealtrail_rebuild")
        cursor.itersize = 20_000
        cursor.execute(_SCAN.format(recorded=recorded), {"upto": upto, "until": recorded_until})
        with engine.begin() as conn:
            pipelines = known(pipeline_stage_lists(conn))
            _derive_all(conn, schema, cursor, pipelines, progress or (lambda n: None))
            aggregates.recompute(conn, schema)
        cursor.close()
    finally:
        raw.close()


class _Chunk:
    """Derived rows waiting to be copied: deal facts, loop-stream rows, stream marks, failures."""

    def __init__(self, pipelines):
        self.pipelines = pipelines
        self.facts, self.others, self.marks, self.failures = [], {}, [], []

    def add(self, stream_id: str, history: list) -> None:
        self.marks.append((sales.NAME, stream_id, max(e.position for e in history)))
        if is_deal_stream(stream_id):
            derived, failed = guarded(lambda d, h: derive(d, h, self.pipelines), stream_id, history)
            if derived is not None:
                self.facts.append(derived)
        else:
            derived, failed = guarded(derive_stream, stream_id, history)
            sales.merge_rows(self.others, derived or {})
        self.failures += failed

    def flush(self, conn: Connection, schema: str) -> None:
        _copy_isolated(conn, schema, self.facts, self.failures)
        copy_tables(conn, schema, {"projection_stream": self.marks,
                                   "projection_errors": as_rows(sales.NAME, self.failures)})
        self.facts, self.marks, self.failures = [], [], []


def _copy_isolated(conn: Connection, schema: str, facts: list, failures: list) -> None:
    """COPY the chunk; if the database refuses it, deal by deal, recording the refused ones."""
    try:
        with conn.begin_nested():
            copy_rows(conn, schema, facts)
        return
    except Exception as exc:
        if not refused(exc):
            raise
    for one in facts:
        try:
            with conn.begin_nested():
                copy_rows(conn, schema, [one])
        except Exception as exc:
            if not refused(exc):
                raise
            failures.append(stream_failure(one.current["deal_id"], one.current["last_position"], exc))


def _derive_all(conn: Connection, schema: str, cursor, pipelines, progress: Progress) -> None:
    chunk, current, history, seen = _Chunk(pipelines), None, [], 0
    for stream_id, *rest in cursor:
        if stream_id != current:
            if current is not None:
                chunk.add(current, history)
            current, history = stream_id, []
            if len(chunk.facts) >= CHUNK_DEALS:
                chunk.flush(conn, schema)
        history.append(sales.to_ev(*rest))
        seen += 1
        if seen % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if current is not None:
        chunk.add(current, history)
    chunk.flush(conn, schema)
    copy_tables(conn, schema, chunk.others)
    progress(seen % PROGRESS_EVERY)


def rebuild(engine: Engine, progress: Progress | None = None) -> int:
    """Build fresh tables, catch up under the projection lock, swap them in atomically.
    Returns the position the new tables reflect."""
    upto = settled_horizon(engine)
    build(engine, BUILD_SCHEMA, upto, progress=progress)
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": sales.TABLES_LOCK})
        through = _catch_up(engine, conn, upto)
        _swap(conn)
        checkpoints.set_watermark(conn, sales.NAME, through)
    log.info("rebuilt %s through position %d", sales.NAME, through)
    return through


def _catch_up(engine: Engine, conn: Connection, after: int) -> int:
    """Apply what was committed while the bulk build ran (the worker is paused by the lock)."""
    while True:
        page = read_committed(engine, after, 10_000)
        if not page.envelopes:
            return after
        upto: dict[str, int] = {}
        for env in page.envelopes:
            upto[env.deal_id] = env.position
        sales.apply(conn, BUILD_SCHEMA, upto)
        after = page.through


def _swap(conn: Connection) -> None:
    """Move the built tables in, then recreate the views that depended on the old ones, with
    the grants and comments of their declarations (the tables carry theirs from the build)."""
    for table in SALES_TABLES:
        conn.exec_driver_sql(f"DROP TABLE read_models.{table} CASCADE")
        conn.exec_driver_sql(f"ALTER TABLE {BUILD_SCHEMA}.{table} SET SCHEMA read_models")
        for statement in tables.grants(table):
            conn.exec_driver_sql(statement)
    for view in tables.VIEWS:
        for statement in [*view.statements(), *tables.grants(view.name, view=True)]:
            conn.exec_driver_sql(statement.replace("%", "%%"))  # exec_driver_sql formats with pyformat
    conn.exec_driver_sql(f"DROP SCHEMA {BUILD_SCHEMA} CASCADE")


def replay(engine: Engine, until_position: int | None = None, until_recorded: datetime | None = None,
           progress: Progress | None = None) -> str:
    """The read models as they were at a past moment, into schema replay_<position>; returns it."""
    upto = settled_horizon(engine)
    if until_position is not None:
        upto = min(upto, until_position)
    schema = f"replay_p{upto}" + (f"_t{int(until_recorded.timestamp())}" if until_recorded else "")
    build(engine, schema, upto, recorded_until=until_recorded, progress=progress)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO bi_reader, dealtrail_app")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO bi_reader, dealtrail_app")
    return schema
