"""The `sales` projection: deal-level read models and their aggregates, from deal streams.

Applying a batch re-derives each touched deal from its own events (read from the log up to
the newest position seen for it), replaces the deal's rows and refreshes the aggregate rows
whose keys it touched. Applying the same events twice gives the same rows."""
from collections import defaultdict

from sqlalchemy import Connection

from events.pipelines import known
from events.store import pipeline_stage_lists
from events.upcasting import upcast
from projections.derive import Ev, derive
from projections.loop import derive_stream
from projections.writer import refresh, replace_deals, replace_streams

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


def is_deal_stream(deal_id: str) -> bool:
    return ":" not in deal_id


def merge_rows(into: dict[str, list[tuple]], rows: dict[str, list[tuple]]) -> None:
    for table, table_rows in rows.items():
        into.setdefault(table, []).extend(table_rows)


def apply(conn: Connection, schema: str, upto: dict[str, int]) -> int:
    """Re-derive the streams in `upto` (stream id -> newest position to include); returns how many."""
    if not upto:
        return 0
    histories = load_histories(conn, upto)
    deals = sorted(d for d in upto if is_deal_stream(d))
    if deals:
        pipelines = known(pipeline_stage_lists(conn))
        facts = [f for f in (derive(d, histories.get(d, []), pipelines) for d in deals) if f is not None]
        refresh(conn, schema, replace_deals(conn, schema, deals, facts))
    others = sorted(s for s in upto if not is_deal_stream(s))
    if others:
        rows: dict[str, list[tuple]] = {}
        for stream in others:
            merge_rows(rows, derive_stream(stream, histories.get(stream, [])))
        replace_streams(conn, schema, others, rows)
    return len(upto)
