"""The `sales` projection: deal-level read models and their aggregates, from deal streams.

Applying a batch re-derives each touched deal from its own events (read from the log up to
the newest position seen for it), replaces the deal's rows and refreshes the aggregate rows
whose keys it touched. Applying the same events twice gives the same rows."""
from collections import defaultdict

from sqlalchemy import Connection

from events.upcasting import upcast
from projections.derive import Ev, derive
from projections.writer import refresh, replace_deals

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


def apply(conn: Connection, schema: str, upto: dict[str, int]) -> int:
    """Re-derive the deals in `upto` (deal_id -> newest position to include); returns how many."""
    deals = {d: p for d, p in upto.items() if is_deal_stream(d)}
    if not deals:
        return 0
    histories = load_histories(conn, deals)
    facts = [f for f in (derive(d, histories.get(d, [])) for d in sorted(deals)) if f is not None]
    touched = replace_deals(conn, schema, sorted(deals), facts)
    refresh(conn, schema, touched)
    return len(deals)
