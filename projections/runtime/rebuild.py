"""Rebuild the sales read models from events.event into fresh tables and swap them in (BI
never sees a half-built table), or replay them as they were into a separate schema.

A large log is derived by several processes at once, each taking a range of deal ids (deals
are independent; the aggregates are computed once all deals are in)."""
import gc
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from datetime import datetime

from psycopg2.extras import register_default_jsonb
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateIndex, CreateTable, SetColumnComment, SetTableComment

from events.log_reader import read_committed, settled_horizon
from infra import coordination
from infra.jsontext import loads
from events.streams import is_deal_stream
from domain.pipelines import known
from events.store import pipeline_stage_lists
from projections.sums import deltas as aggregates, rollups, snapshots
from projections.runtime import checkpoints, swap_wait
from projections import sales_projection as sales
from projections.tables import declared as tables
from projections.tables.groups import SALES_TABLES, SNAPSHOT_TABLES, schema_name
from projections.loop.rows import derive_stream
from projections.runtime.quarantine import as_rows, guarded, refused, stream_failure
from projections.deals.history import timeline
from projections.deals.writer import copy_tables, timeline_rows

log = logging.getLogger("dealtrail.rebuild")
BUILD_SCHEMA = "read_models_build"
CHUNK_DEALS = 2000
PROGRESS_EVERY = 5000
PARALLEL_FROM = 200_000  # positions: below this a second process costs more than it saves
SHARES = 2
INDEX_MEMORY = "256MB"  # maintenance_work_mem of an index build (per connection building one)
# Tables filled after the deal-level rows are in: their indexes come after their rows.
_FILLED_AFTER = (*SNAPSHOT_TABLES, "cycle_time_stage", "funnel_open_span")

Progress = Callable[[int], None]

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


def create_tables(conn: Connection, schema: str) -> None:
    """The sales tables, as declared (columns, keys, comments; secondary indexes come with
    create_indexes once the rows are in), and the aggregate views over them, in a fresh `schema`."""
    s = schema_name(schema)
    conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {s} CASCADE")
    conn.exec_driver_sql(f"CREATE SCHEMA {s}")
    translated = conn.execution_options(schema_translate_map={tables.SCHEMA: s})
    for table in _declared():
        translated.execute(CreateTable(table))
        for statement in _comments(table):
            translated.execute(statement)
    for view in tables.AGGREGATE_VIEWS:  # reports read a replay schema's aggregates through them
        for statement in view.statements(s):
            conn.exec_driver_sql(statement.replace("%", "%%"))


def create_indexes(conn: Connection, schema: str, names: tuple[str, ...] = SALES_TABLES) -> None:
    """The declared secondary indexes of the tables `names`: built once the rows are in, which is
    quicker than keeping them up to date row by row."""
    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")  # each sort in memory
    translated = conn.execution_options(schema_translate_map={tables.SCHEMA: schema_name(schema)})
    for table in _declared(names):
        for index in table.indexes:
            translated.execute(CreateIndex(index))


def _indexes_side_by_side(engine: Engine, schema: str, names: tuple[str, ...], ways: int = 2) -> None:
    """create_indexes of `names`, the tables dealt out to `ways` connections at once."""
    shares = [names[k::ways] for k in range(ways)]
    _side_by_side(engine, *(lambda conn, share=share: create_indexes(conn, schema, share) for share in shares))


def _declared(names: tuple[str, ...] = SALES_TABLES) -> list:
    return [tables.metadata.tables[f"{tables.SCHEMA}.{t}"] for t in names]


def _comments(table) -> list:
    """COMMENT ON the table and its columns (create_all emits them; CreateTable does not)."""
    return [SetTableComment(table), *(SetColumnComment(c) for c in table.columns if c.comment)]


def build(engine: Engine, schema: str, upto: int, recorded_until: datetime | None = None,
          progress: Progress | None = None, shares: int | None = None, snapshot_every: int | None = None) -> None:
    """Fill fresh tables in `schema` from every event at or below position `upto` (and
    recorded by `recorded_until`, if given). Streams the log: memory stays flat. `shares`:
    how many processes derive deals (default: one for small logs, SHARES from PARALLEL_FROM).
    `snapshot_every`: also snapshot the sums on that grid (projections.sums.snapshots)."""
    progress = progress or (lambda n: None)
    with engine.begin() as conn:
        create_tables(conn, schema)
        role, login = conn.exec_driver_sql("SELECT current_user, session_user").one()
    shares = shares or (SHARES if upto >= PARALLEL_FROM else 1)
    ranges = _ranges(engine, shares)
    if len(ranges) == 1:
        _build_range(engine, schema, upto, recorded_until, ranges[0], progress)
    else:
        url = engine.url.render_as_string(hide_password=False)
        _in_processes(url, None if role == login else role, schema, upto, recorded_until, ranges, progress)
    # the works side by side take a connection each, whatever the size of the caller's pool
    side = _unpooled(engine.url.render_as_string(hide_password=False), None if role == login else role)
    try:
        _finish(side, schema, upto, snapshot_every)
    finally:
        side.dispose()


def _finish(engine: Engine, schema: str, upto: int, snapshot_every: int | None) -> None:
    """The indexes, sums, roll-ups and snapshots once the deal-level rows are in; VACUUM."""
    _indexes_side_by_side(engine, schema, tuple(t for t in SALES_TABLES if t not in _FILLED_AFTER))

    def sums(conn: Connection) -> None:
        aggregates.recompute(conn, schema)
        rollups.recompute_cohort_month(conn, schema)

    def dwell(conn: Connection) -> None:  # the roll-ups' indexes after their rows, like the others'
        rollups.refresh_cycle_stage(conn, schema, None)
        create_indexes(conn, schema, ("cycle_time_stage",))

    def spans(conn: Connection) -> None:
        rollups.refresh_open_spans(conn, schema, None)
        create_indexes(conn, schema, ("funnel_open_span",))

    def snapshotted(conn: Connection) -> None:
        if snapshot_every:
            snapshots.build(conn, schema, upto, snapshot_every)
        create_indexes(conn, schema, SNAPSHOT_TABLES)
    # each one PostgreSQL statement at a time, none waiting for another: the two cores stay busy
    _side_by_side(engine, sums, dwell, spans, snapshotted)
    vacuum(engine, schema)


def _side_by_side(engine: Engine, *works: Callable[[Connection], None]) -> None:
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


def _build_range(engine: Engine, schema: str, upto: int, recorded_until: datetime | None,
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
            pipelines = known(pipeline_stage_lists(conn))
            _derive_all(conn, schema, cursor, pipelines, progress)
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


def _share(url: str, role: str | None, schema: str, upto: int, recorded_until: datetime | None,
           deal_range: tuple[str | None, str | None]) -> None:
    """One process's share of a build (its own connection and transaction)."""
    engine = _unpooled(url, role)
    gc.freeze()  # what the process holds from here on (modules, the engine) is never garbage

    def count(n: int) -> None:
        with _done.get_lock():
            _done.value += n
    try:
        _build_range(engine, schema, upto, recorded_until, deal_range, count)
    finally:
        engine.dispose()


def _in_processes(url: str, role: str | None, schema: str, upto: int, recorded_until: datetime | None,
                  ranges: list, progress: Progress) -> None:
    context = multiprocessing.get_context("spawn")  # never fork a process that may run threads
    done = context.Value("q", 0)
    reported = 0
    with ProcessPoolExecutor(len(ranges), mp_context=context, initializer=_start_share,
                             initargs=(done,)) as pool:
        futures = [pool.submit(_share, url, role, schema, upto, recorded_until, r) for r in ranges]
        while wait(futures, timeout=0.5).not_done:
            reported = _report(done, reported, progress)
        for future in futures:
            future.result()  # a share's failure fails the build
    _report(done, reported, progress)


def _report(done, reported: int, progress: Progress) -> int:
    if done.value > reported:
        progress(done.value - reported)
    return done.value


class _Chunk:
    """Derived rows waiting to be copied: deal timelines, loop-stream rows, stream marks, failures."""

    def __init__(self, pipelines):
        self.pipelines = pipelines
        self.lines, self.others, self.marks, self.failures = [], {}, [], []

    def add(self, stream_id: str, history: list) -> None:
        position = max(e.position for e in history)
        self.marks.append((sales.NAME, stream_id, position))
        if is_deal_stream(stream_id):
            line, failed = guarded(lambda d, h: timeline(d, h, self.pipelines), stream_id, history)
            if line is not None:
                self.lines.append((stream_id, position, line))
        else:
            derived, failed = guarded(derive_stream, stream_id, history)
            sales.merge_rows(self.others, derived or {})
        self.failures += failed

    def flush(self, conn: Connection, schema: str) -> None:
        _copy_isolated(conn, schema, self.lines, self.failures)
        copy_tables(conn, schema, {"projection_stream": self.marks,
                                   "projection_errors": as_rows(sales.NAME, self.failures)})
        self.lines, self.marks, self.failures = [], [], []


def _copy_isolated(conn: Connection, schema: str, lines: list, failures: list) -> None:
    """COPY the chunk's rows and versions; if the database refuses them, deal by deal, recording
    the refused ones."""
    try:
        with conn.begin_nested():
            copy_tables(conn, schema, timeline_rows([(d, line) for d, _, line in lines]))
        return
    except Exception as exc:
        if not refused(exc):
            raise
    for deal_id, position, line in lines:
        try:
            with conn.begin_nested():
                copy_tables(conn, schema, timeline_rows([(deal_id, line)]))
        except Exception as exc:
            if not refused(exc):
                raise
            failures.append(stream_failure(deal_id, position, exc))


def _derive_all(conn: Connection, schema: str, cursor, pipelines, progress: Progress) -> None:
    """Derive and COPY chunk by chunk. The cyclic collector is off meanwhile (the derivation
    allocates millions of short-lived rows, all freed by reference counting; its passes over
    them cost ~10% of the time), and run whole after each chunk instead: memory stays flat."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        _derive_chunks(conn, schema, cursor, pipelines, progress)
    finally:
        if enabled:
            gc.enable()


def _derive_chunks(conn: Connection, schema: str, cursor, pipelines, progress: Progress) -> None:
    chunk, current, history, seen = _Chunk(pipelines), None, [], 0
    for stream_id, *rest in cursor:
        if stream_id != current:
            if current is not None:
                chunk.add(current, history)
            current, history = stream_id, []
            if len(chunk.lines) >= CHUNK_DEALS:
                chunk.flush(conn, schema)
                gc.collect()
        history.append(sales.to_ev(*rest))
        seen += 1
        if seen % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if current is not None:
        chunk.add(current, history)
    chunk.flush(conn, schema)
    copy_tables(conn, schema, chunk.others)
    progress(seen % PROGRESS_EVERY)


def rebuild(engine: Engine, progress: Progress | None = None, snapshot_every: int = snapshots.EVERY,
            swap_patience: float = swap_wait.SWAP_PATIENCE) -> int:
    """Build fresh tables (the sums snapshotted every `snapshot_every` positions too), catch up
    under the projection lock, swap them in atomically. Returns the position the new tables reflect.
    A swap kept waiting by a reader's lock is undone and tried again (projections.runtime.swap_wait)."""
    upto = settled_horizon(engine)
    build(engine, BUILD_SCHEMA, upto, progress=progress, snapshot_every=snapshot_every)
    through = swap_wait.retrying(engine, lambda: _swap_in(engine, upto), swap_patience)
    log.info("rebuilt %s through position %d", sales.NAME, through)
    return through


def _swap_in(engine: Engine, upto: int) -> int:
    with engine.begin() as conn:
        coordination.hold(conn, sales.TABLES_LOCK)
        through = _catch_up(engine, conn, upto)
        swap_wait.limit_lock_waits(conn)
        _swap(conn)
        checkpoints.set_watermark(conn, sales.NAME, through)
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
        # the services and auditors read it; BI reads read_models only (SPEC §6)
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO dealtrail_app")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO dealtrail_app")
    return schema
