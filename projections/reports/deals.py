"""Paged deal lists from deal_current (keyset pagination on deal_id)."""
from sqlalchemy import Connection

from projections.reports.common import money

_LIST = """
SELECT d.deal_id, d.title, d.customer_id, d.customer_name, d.segment, d.owner_id, d.team_id,
       d.pipeline, d.stage, d.status, d.created_at, d.stage_entered_at, d.last_activity_at,
       d.current_amount, d.closed_at, d.version, s.deal_id IS NOT NULL AS stalled
FROM read_models.deal_current d
LEFT JOIN read_models.stalled_deals s ON s.deal_id = d.deal_id
WHERE (CAST(%(stage)s AS text) IS NULL OR d.stage = %(stage)s)
  AND (CAST(%(owner_id)s AS text) IS NULL OR d.owner_id = %(owner_id)s)
  AND (CAST(%(team_id)s AS text) IS NULL OR d.team_id = %(team_id)s)
  AND (CAST(%(status)s AS text) IS NULL OR d.status = %(status)s)
  AND (NOT %(stalled)s OR s.deal_id IS NOT NULL)
  AND (CAST(%(cursor)s AS text) IS NULL OR d.deal_id > %(cursor)s)
ORDER BY d.deal_id
LIMIT %(limit)s
"""


def list_deals(conn: Connection, *, limit: int, cursor: str | None = None, stalled: bool = False,
               **filters) -> dict:
    rows = conn.exec_driver_sql(_LIST, {"limit": limit + 1, "cursor": cursor, "stalled": stalled,
                                        **filters}).mappings().all()
    deals = [{**row, "current_amount": money(row["current_amount"])} for row in rows[:limit]]
    return {"deals": deals, "next_cursor": deals[-1]["deal_id"] if len(rows) > limit else None}
