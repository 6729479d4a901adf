"""The sales projection rebuilt in bulk (runtime.rebuild drives it): each range of streams derived
and COPYed chunk by chunk (deals as whole timelines, target/review/pipeline streams as rows), then,
once every range is in, the indexes, sums, roll-ups and snapshots, side by side."""
import gc

from sqlalchemy import Connection, Engine

from domain.pipelines import known
from events.store import pipeline_stage_lists
from events.streams import is_deal_stream
from projections import sales_projection as sales
from projections.deals.history import timeline
from projections.deals.writer import copy_tables, timeline_rows
from projections.loop.rows import derive_stream
from projections.runtime.projection import Progress
from projections.runtime.quarantine import as_rows, guarded, refused, stream_failure
from projections.runtime.rebuild import side_by_side
from projections.sums import deltas as aggregates
from projections.sums import rollups, snapshots
from projections.tables.build import create_indexes
from projections.tables.groups import OWN_TABLES, SNAPSHOT_TABLES

CHUNK_DEALS = 2000
PROGRESS_EVERY = 5000
# Tables filled after the deal-level rows are in: their indexes come after their rows.
_FILLED_AFTER = (*SNAPSHOT_TABLES, "cycle_time_stage", "funnel_open_span")


def derive(conn: Connection, schema: str, scanned, progress: Progress) -> None:
    """Derive and COPY one range of streams' events (runtime.rebuild's scan, in stream order)."""
    _derive_all(conn, schema, scanned, known(pipeline_stage_lists(conn)), progress)


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




def finish(engine: Engine, schema: str, upto: int, snapshot_every: int | None) -> None:
    """The indexes, sums, roll-ups and snapshots once the deal-level rows are in."""
    _indexes_side_by_side(engine, schema, tuple(t for t in OWN_TABLES if t not in _FILLED_AFTER))

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
    side_by_side(engine, sums, dwell, spans, snapshotted)


def _indexes_side_by_side(engine: Engine, schema: str, names: tuple[str, ...], ways: int = 2) -> None:
    """create_indexes of `names`, the tables dealt out to `ways` connections at once."""
    shares = [names[k::ways] for k in range(ways)]
    side_by_side(engine, *(lambda conn, share=share: create_indexes(conn, schema, share) for share in shares))
