"""The `sales` projection: deal-level read models and their aggregates, from deal streams.

Applying a batch folds each touched deal's new events on from its stored resume point when
they come later in business time than everything folded before (the usual case: reading and
writing only what is new); otherwise — a void, a back-dated event, no point — it derives the
deal again from all its events (read from the log up to the newest position seen for it) and
replaces its rows. Either way it steps through the new events one recorded moment at a time,
so every version of the rows is kept (projections.deals.history: the bitemporal `_past` tables). The
change from the removed rows to the added ones is added to the aggregates. Applying the same
events twice gives the same rows. An event a derivation cannot apply is left out of its stream
and recorded in projection_errors (such a deal keeps no resume point)."""
from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import Connection

from domain.pipelines import known
from events.store import pipeline_stage_lists
from events.streams import is_deal_stream
from events.upcasting import upcast
from infra.array_text import array_text
from projections.deals import points
from projections.deals.history import Step, steps
from projections.deals.rows import Ev, Point, resumable
from projections.deals.writer import DealWrite, copy_tables, replace_streams, write_deals
from projections.loop.rows import derive_stream
from projections.runtime import checkpoints
from projections.runtime.names import schema_name
from projections.runtime.quarantine import Failure, as_rows, guarded, stream_failure
from projections.tables.groups import POINT_TABLE

NAME = "sales"


class Paths:
    """How many deal applications were resumed from a point or derived from the whole stream
    (in this process): the share of resumes is what keeps live apply flat as the log grows."""
    resumed = 0
    derived = 0


# Each stream's events after a stream version (0: all of them) up to a position.
_EVENTS = """
SELECT e.deal_id, e.event_id::text, e.type, e.stream_version, e.position, e.occurred_at, e.data,
       e.schema_version, e.recorded_at
FROM unnest(%(ids)s::text[], %(after)s::int[], %(upto)s::bigint[]) AS t(deal_id, after, upto)
JOIN events.event e ON e.deal_id = t.deal_id AND e.stream_version > t.after AND e.position <= t.upto
ORDER BY e.deal_id, e.stream_version
"""


def to_ev(event_id, kind, version, position, occurred_at, data, schema_version, recorded_at) -> Ev:
    _, data = upcast(kind, schema_version, data)
    return Ev(event_id, kind, version, position, occurred_at, data, recorded_at)


def load_histories(conn: Connection, upto: dict[str, int],
                   after: dict[str, int] | None = None) -> dict[str, list[Ev]]:
    """Each stream's events up to position upto[stream] (after stream version after[stream])."""
    histories: dict[str, list[Ev]] = defaultdict(list)
    rows = conn.exec_driver_sql(_EVENTS, {"ids": array_text(list(upto)),
                                          "after": array_text([(after or {}).get(s, 0) for s in upto]),
                                          "upto": array_text(list(upto.values()))})
    for deal_id, *rest in rows:
        histories[deal_id].append(to_ev(*rest))
    return histories


def load_points(conn: Connection, schema: str, deal_ids: list[str]) -> dict[str, Point]:
    rows = conn.exec_driver_sql(f"SELECT deal_id, point FROM {schema_name(schema)}.{POINT_TABLE} "
                                f"WHERE deal_id = ANY(%(ids)s::text[])", {"ids": array_text(deal_ids)})
    return {deal_id: point for deal_id, stored in rows if (point := points.loads(stored)) is not None}


def merge_rows(into: dict[str, list[tuple]], rows: dict[str, list[tuple]]) -> None:
    for table, table_rows in rows.items():
        into.setdefault(table, []).extend(table_rows)


def apply(conn: Connection, schema: str, upto: dict[str, int]) -> list[Failure]:
    """Apply the streams in `upto` (stream id -> newest position to include) and mark them
    applied through that position; events that cannot be applied are left out and returned."""
    if not upto:
        return []
    failures: list[Failure] = []
    deals = {d: p for d, p in upto.items() if is_deal_stream(d)}
    if deals:
        failures += _apply_deals(conn, schema, deals)
    others = {s: p for s, p in upto.items() if not is_deal_stream(s)}
    if others:
        histories = load_histories(conn, others)
        rows: dict[str, list[tuple]] = {}
        for stream in sorted(others):
            derived, failed = guarded(derive_stream, stream, histories.get(stream, []))
            failures += failed
            merge_rows(rows, derived or {})
        replace_streams(conn, schema, sorted(others), rows)
    record(conn, schema, upto, failures)
    return failures


def _apply_deals(conn: Connection, schema: str, upto: dict[str, int]) -> list[Failure]:
    stored = load_points(conn, schema, list(upto))
    new = load_histories(conn, upto, after={d: p.state.version for d, p in stored.items()})
    pipelines = known(pipeline_stage_lists(conn))
    writes, again = [], []
    for deal_id in sorted(upto):
        point = stored.get(deal_id)
        taken = None if point is None else _resumed(deal_id, point, new.get(deal_id, []), pipelines)
        if taken is None:
            again.append(deal_id)
        else:
            writes.append(DealWrite(deal_id, full=False, steps=taken))
    Paths.resumed += len(writes)
    Paths.derived += len(again)
    histories = {d: new.get(d, []) for d in again if d not in stored}  # no point: `new` is all of it
    histories.update(load_histories(conn, {d: upto[d] for d in again if d in stored}))
    applied = _applied(conn, schema, again)
    failures = []
    for deal_id in again:
        through = applied.get(deal_id, 0)  # the stored rows reflect the events up to here

        def stepped(d: str, history: list[Ev], through: int = through) -> list[Step]:
            return steps(d, None, [e for e in history if e.position <= through],
                         [e for e in history if e.position > through], pipelines)
        taken, failed = guarded(stepped, deal_id, histories.get(deal_id, []))
        failures += failed
        if taken is None:  # every event left out: nothing is left of the deal
            at = max((e.recorded_at for e in histories.get(deal_id, [])), default=None) or datetime.now(timezone.utc)
            taken = [Step(at, None, resumed=False)]
        if failed and taken[-1].facts is not None:
            taken[-1].facts.point = None  # resuming would lose track of the events left out
        writes.append(DealWrite(deal_id, full=True, steps=taken))
    write_deals(conn, schema, writes)
    return failures


def _resumed(deal_id: str, point: Point, events: list[Ev], pipelines) -> list[Step] | None:
    """The deal folded on from its point, moment by moment, or None when that would not equal a
    full derivation."""
    if not resumable(point, events):
        return None
    try:
        return steps(deal_id, point, [], events, pipelines, resume_only=True)
    except Exception:  # derive it in full: that isolates the event it cannot apply
        return None


def _applied(conn: Connection, schema: str, stream_ids: list[str]) -> dict[str, int]:
    """The newest position applied per stream (what its stored rows reflect)."""
    if not stream_ids:
        return {}
    return dict(conn.exec_driver_sql(
        f"SELECT stream_id, position FROM {schema_name(schema)}.projection_stream "
        f"WHERE projection = %(p)s AND stream_id = ANY(%(ids)s::text[])",
        {"p": NAME, "ids": array_text(stream_ids)}).all())


def record(conn: Connection, schema: str, upto: dict[str, int], failures: list[Failure]) -> None:
    """Mark the streams applied through `upto`; their failures replace the ones recorded before
    (a stream's failures are a function of its events, as its rows are)."""
    s = schema_name(schema)
    conn.exec_driver_sql(f"DELETE FROM {s}.projection_errors WHERE projection = %(p)s "
                         f"AND stream_id = ANY(%(ids)s::text[])", {"p": NAME, "ids": array_text(list(upto))})
    copy_tables(conn, schema, {"projection_errors": as_rows(NAME, failures)})
    checkpoints.mark_streams(conn, NAME, upto, schema)


def give_up(conn: Connection, schema: str, stream_id: str, position: int, exc: BaseException) -> Failure:
    """The database refused a stream's rows: keep its old rows, record why, mark it applied."""
    failure = stream_failure(stream_id, position, exc)
    record(conn, schema, {stream_id: position}, [failure])
    return failure
