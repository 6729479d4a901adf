"""The `sales` projection: deal-level read models and their aggregates, from deal streams.

Applying a batch re-derives each touched deal from its own events (read from the log up to
the newest position seen for it), replaces the deal's rows and adds the change from its old
rows to its new ones to the aggregates. Applying the same events twice gives the same rows.
An event a derivation cannot apply is left out of its stream and recorded in projection_errors."""
from collections import defaultdict

from sqlalchemy import Connection

from domain.pipelines import known
from events.store import pipeline_stage_lists
from events.upcasting import upcast
from events.streams import is_deal_stream
from projections import checkpoints
from projections.derive import Ev, derive
from projections.loop import derive_stream
from projections.quarantine import Failure, as_rows, guarded, stream_failure
from projections.schema import schema_name
from projections.writer import copy_tables, replace_deals, replace_streams

NAME = "sales"
TABLES_LOCK = "dealtrail.projection.sales"

_HISTORY = """
SELECT e.deal_id, e.event_id::text, e.type, e.stream_version, e.position, e.occurred_at, e.data,
       e.schema_version
FROM events.event e
JOIN unnest(%(ids)s::text[], %(upto)s::bigint[]) AS t(deal_id, upto)
  ON e.deal_id = t.deal_id AND e.position <= t.upto
ORDER BY e.deal_id, e.stream_version
"""


def to_ev(event_id, kind, version, position, occurred_at, data, schema_version) -> Ev:
    _, data = upcast(kind, schema_version, data)
    return Ev(event_id, kind, version, position, occurred_at, data)


def load_histories(conn: Connection, upto: dict[str, int]) -> dict[str, list[Ev]]:
    histories: dict[str, list[Ev]] = defaultdict(list)
    rows = conn.exec_driver_sql(_HISTORY, {"ids": list(upto), "upto": list(upto.values())})
    for deal_id, *rest in rows:
        histories[deal_id].append(to_ev(*rest))
    return histories


def merge_rows(into: dict[str, list[tuple]], rows: dict[str, list[tuple]]) -> None:
    for table, table_rows in rows.items():
        into.setdefault(table, []).extend(table_rows)


def apply(conn: Connection, schema: str, upto: dict[str, int]) -> list[Failure]:
    """Re-derive the streams in `upto` (stream id -> newest position to include) and mark them
    applied through that position; events that cannot be applied are left out and returned."""
    if not upto:
        return []
    histories = load_histories(conn, upto)
    failures: list[Failure] = []
    deals = sorted(d for d in upto if is_deal_stream(d))
    if deals:
        pipelines = known(pipeline_stage_lists(conn))
        facts = []
        for deal_id in deals:
            derived, failed = guarded(lambda d, h: derive(d, h, pipelines), deal_id, histories.get(deal_id, []))
            failures += failed
            if derived is not None:
                facts.append(derived)
        replace_deals(conn, schema, deals, facts)
    others = sorted(s for s in upto if not is_deal_stream(s))
    if others:
        rows: dict[str, list[tuple]] = {}
        for stream in others:
            derived, failed = guarded(derive_stream, stream, histories.get(stream, []))
            failures += failed
            merge_rows(rows, derived or {})
        replace_streams(conn, schema, others, rows)
    record(conn, schema, upto, failures)
    return failures


def record(conn: Connection, schema: str, upto: dict[str, int], failures: list[Failure]) -> None:
    """Mark the streams applied through `upto`; their failures replace the ones recorded before
    (a stream's failures are a function of its events, as its rows are)."""
    s = schema_name(schema)
    conn.exec_driver_sql(f"DELETE FROM {s}.projection_errors WHERE projection = %(p)s "
                         f"AND stream_id = ANY(%(ids)s)", {"p": NAME, "ids": list(upto)})
    copy_tables(conn, schema, {"projection_errors": as_rows(NAME, failures)})
    checkpoints.mark_streams(conn, NAME, upto, schema)


def give_up(conn: Connection, schema: str, stream_id: str, position: int, exc: BaseException) -> Failure:
    """The database refused a stream's rows: keep its old rows, record why, mark it applied."""
    failure = stream_failure(stream_id, position, exc)
    record(conn, schema, {stream_id: position}, [failure])
    return failure
