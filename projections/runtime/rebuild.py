"""Rebuild a projection from events.event into fresh tables and swap them in (BI never sees a
half-built table), or replay it as it was into a separate schema. Which projection is the
caller's (runtime.projection.Projection): this module knows none.

A large log is derived by several processes at once, each taking a range of stream ids (streams
are independent; what spans streams, e.g. sums, the projection computes once all are in)."""
import gc
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from datetime import datetime

from psycopg2.extras import register_default_jsonb
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from events.log_reader import read_committed, settled_horizon
from infra import coordination
from infra.jsontext import loads
from projections.runtime import checkpoints, swap_wait
from projections.runtime.names import schema_name
from projections.runtime.projection import Progress, Projection

log = logging.getLogger("dealtrail.rebuild")
PARALLEL_FROM = 200_000  # positions: below this a second process costs more than it saves
SHARES = 2
# What the runtime keeps for every projection (runtime.checkpoints, runtime.quarantine): a build
# schema holds its own, swapped in with the projection's tables (other projections' rows kept).
BOOKKEEPING_TABLES = ("projection_stream", "projection_errors")

_SCAN = """
SELECT deal_id, event_id::text, type, stream_version, position, occurred_at, data, schema_version, recorded_at
FROM events.event WHERE position <= %(upto)s {recorded}
  AND (CAST(%(low)s AS text) IS NULL OR deal_id >= %(low)s)
  AND (CAST(%(high)s AS text) IS NULL OR deal_id < %(high)s)
ORDER BY deal_id, stream_version
"""
# Stream ids splitting the streams into equal shares (one row per stream in stream_head).
_BOUNDS = """
SELECT percentile_disc(%(fractions)s::float8[]) WITHIN GROUP (ORDER BY deal_id) FROM events.stream_head
"""


def count_events(engine: Engine, upto: int, recorded_until: datetime | None = None) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM events.event WHERE position <= :p "
                                 "AND (CAST(:t AS timestamptz) IS NULL OR recorded_at <= :t)"),
                            {"p": upto, "t": recorded_until}).scalar()


def build(projection: Projection, engine: Engine, schema: str, upto: int, recorded_until: datetime | None = None,
          progress: Progress | None = None, shares: int | None = None, snapshot_every: int | None = None) -> None:
    """Fill fresh tables in `schema` from every event at or below position `upto` (and
    recorded by `recorded_until`, if given). Streams the log: memory stays flat. `shares`:
    how many processes derive streams (default: one for small logs, SHARES from PARALLEL_FROM).
    `snapshot_every`: also take the projection's snapshots on that grid."""
    progress = progress or (lambda n: None)
    with engine.begin() as conn:
        create_schema(conn, schema)
        projection.create_tables(conn, schema)
        role, login = conn.exec_driver_sql("SELECT current_user, session_user").one()
    shares = shares or (SHARES if upto >= PARALLEL_FROM else 1)
    ranges = _ranges(engine, shares)
    if len(ranges) == 1:
        _build_range(projection, engine, schema, upto, recorded_until, ranges[0], progress)
    else:
        url = engine.url.render_as_string(hide_password=False)
        _in_processes(projection, url, None if role == login else role, schema, upto, recorded_until, ranges,
                      progress)
    # the works side by side take a connection each, whatever the size of the caller's pool
    side = _unpooled(engine.url.render_as_string(hide_password=False), None if role == login else role)
    try:
        projection.finish(side, schema, upto, snapshot_every)
        vacuum(side, schema)
    finally:
        side.dispose()


def create_schema(conn: Connection, schema: str) -> None:
    """A fresh `schema` holding the bookkeeping tables (as read_models declares them: columns, keys,
    comments)."""
    s = schema_name(schema)
    conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {s} CASCADE")
    conn.exec_driver_sql(f"CREATE SCHEMA {s}")
    for table in BOOKKEEPING_TABLES:
        conn.exec_driver_sql(f"CREATE TABLE {s}.{table} (LIKE read_models.{table} INCLUDING ALL)")
        comment = conn.exec_driver_sql("SELECT obj_description(%(t)s::regclass, 'pg_class')",
                                       {"t": f"read_models.{table}"}).scalar()  # LIKE copies the columns' only
        conn.exec_driver_sql(f"COMMENT ON TABLE {s}.{table} IS %(c)s", {"c": comment})


def side_by_side(engine: Engine, *works: Callable[[Connection], None]) -> None:
    """Run each work in a transaction of its own, at the same time."""
    def run(work: Callable[[Connection], None]) -> None:
        with engine.begin() as conn:
            work(conn)
    with ThreadPoolExecutor(len(works)) as pool:
        for future in [pool.submit(run, work) for work in works]:
            future.result()


def vacuum(engine: Engine, schema: str, workers: int = 2) -> None:
    """VACUUM (ANALYZE) every table built, two at a time: the planner gets statistics and the
    covering indexes a visibility map (index-only scans) before the first report reads them.
    Without it, reports right after a rebuild of 1M events ran 3x slower (cycle-time median
    50 ms, 15 ms after) until autovacuum came by; it costs a few seconds."""
    with engine.connect() as conn:
        names = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = %(s)s ORDER BY tablename",
                                     {"s": schema_name(schema)}).scalars().all()

    def one(name: str) -> None:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'VACUUM (ANALYZE) {schema_name(schema)}."{name}"')
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, names))


def _ranges(engine: Engine, shares: int) -> list[tuple[str | None, str | None]]:
    """[low, high) stream id ranges covering every stream, about equally many in each."""
    if shares == 1:
        return [(None, None)]
    with engine.connect() as conn:
        cuts = conn.exec_driver_sql(_BOUNDS, {"fractions": [k / shares for k in range(1, shares)]}).scalar() or []
    cuts = sorted({c for c in cuts if c is not None})
    return list(zip([None, *cuts], [*cuts, None]))


def _build_range(projection: Projection, engine: Engine, schema: str, upto: int, recorded_until: datetime | None,
                 deal_range: tuple[str | None, str | None], progress: Progress) -> None:
    recorded = "AND recorded_at <= %(until)s" if recorded_until else ""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor(name="dealtrail_rebuild")
        cursor.itersize = 20_000
        register_default_jsonb(cursor, loads=loads)
        cursor.execute(_SCAN.format(recorded=recorded), {"upto": upto, "until": recorded_until,
                                                         "low": deal_range[0], "high": deal_range[1]})
        with engine.begin() as conn:
            projection.derive(conn, schema, cursor, progress)
        cursor.close()
    finally:
        raw.close()


_done = None  # in a share's process: the events it derived so far, shared with the parent


def _start_share(counter) -> None:
    global _done
    _done = counter


def _unpooled(url: str, role: str | None) -> Engine:
    """An engine connecting as the caller's connections do, keeping none open."""
    options = "-c timezone=UTC" + (f" -c role={role}" if role else "")  # as the parent's connections
    return create_engine(url, poolclass=NullPool, connect_args={"options": options})


def _share(projection: Projection, url: str, role: str | None, schema: str, upto: int, recorded_until: datetime | None,
           deal_range: tuple[str | None, str | None]) -> None:
    """One process's share of a build (its own connection and transaction)."""
    engine = _unpooled(url, role)
    gc.freeze()  # what the process holds from here on (modules, the engine) is never garbage

    def count(n: int) -> None:
        with _done.get_lock():
            _done.value += n
    try:
        _build_range(projection, engine, schema, upto, recorded_until, deal_range, count)
    finally:
        engine.dispose()


def _in_processes(projection: Projection, url: str, role: str | None, schema: str, upto: int,
                  recorded_until: datetime | None, ranges: list, progress: Progress) -> None:
    context = multiprocessing.get_context("spawn")  # never fork a process that may run threads
    done = context.Value("q", 0)
    reported = 0
    with ProcessPoolExecutor(len(ranges), mp_context=context, initializer=_start_share,
                             initargs=(done,)) as pool:
        futures = [pool.submit(_share, projection, url, role, schema, upto, recorded_until, r) for r in ranges]
        while wait(futures, timeout=0.5).not_done:
            reported = _report(done, reported, progress)
        for future in futures:
            future.result()  # a share's failure fails the build
    _report(done, reported, progress)


def _report(done, reported: int, progress: Progress) -> int:
    if done.value > reported:
        progress(done.value - reported)
    return done.value


def rebuild(projection: Projection, engine: Engine, progress: Progress | None = None,
            snapshot_every: int | None = None, swap_patience: float = swap_wait.SWAP_PATIENCE) -> int:
    """Build fresh tables (snapshotted every `snapshot_every` positions too; default: the
    projection's grid), catch up under the projection's lock, swap them in atomically. Returns the
    position the new tables reflect. A swap kept waiting by a reader's lock is undone and tried
    again (projections.runtime.swap_wait)."""
    upto = settled_horizon(engine)
    build(projection, engine, projection.build_schema, upto, progress=progress,
          snapshot_every=snapshot_every or projection.snapshot_every)
    through = swap_wait.retrying(engine, lambda: _swap_in(projection, engine, upto), swap_patience)
    log.info("rebuilt %s through position %d", projection.name, through)
    return through


def _swap_in(projection: Projection, engine: Engine, upto: int) -> int:
    with engine.begin() as conn:
        coordination.hold(conn, projection.lock)
        through = _catch_up(projection, engine, conn, upto)
        swap_wait.limit_lock_waits(conn)
        _swap(projection, conn)
        checkpoints.set_watermark(conn, projection.name, through)
    return through


def _catch_up(projection: Projection, engine: Engine, conn: Connection, after: int) -> int:
    """Apply what was committed while the bulk build ran (the worker is paused by the lock)."""
    while True:
        page = read_committed(engine, after, 10_000)
        if not page.envelopes:
            return after
        upto: dict[str, int] = {}
        for env in page.envelopes:
            upto[env.deal_id] = env.position
        projection.apply(conn, projection.build_schema, upto)
        after = page.through


def _swap(projection: Projection, conn: Connection) -> None:
    """The projection's tables, then the bookkeeping tables with the other projections' rows
    carried over (they were applied by their own workers meanwhile: the build holds none of them)."""
    build = schema_name(projection.build_schema)
    projection.swap_in(conn, build)
    for table in BOOKKEEPING_TABLES:
        conn.exec_driver_sql(f"INSERT INTO {build}.{table} SELECT * FROM read_models.{table} "
                             f"WHERE projection <> %(p)s", {"p": projection.name})
        conn.exec_driver_sql(f"DROP TABLE read_models.{table} CASCADE")
        conn.exec_driver_sql(f"ALTER TABLE {build}.{table} SET SCHEMA read_models")
        conn.exec_driver_sql(f"GRANT SELECT ON read_models.{table} TO bi_reader")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.{table} TO dealtrail_app")
    conn.exec_driver_sql(f"DROP SCHEMA {build} CASCADE")


def replay(projection: Projection, engine: Engine, until_position: int | None = None,
           until_recorded: datetime | None = None, progress: Progress | None = None) -> str:
    """The projection as it was at a past moment, into schema replay_<position>; returns it."""
    upto = settled_horizon(engine)
    if until_position is not None:
        upto = min(upto, until_position)
    schema = f"replay_p{upto}" + (f"_t{int(until_recorded.timestamp())}" if until_recorded else "")
    build(projection, engine, schema, upto, recorded_until=until_recorded, progress=progress)
    with engine.begin() as conn:
        # the services and auditors read it; BI reads read_models only (SPEC §6)
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO dealtrail_app")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO dealtrail_app")
    return schema
