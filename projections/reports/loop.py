"""Targets with attainment, and reviews with their actions and the feedback they concern."""
from datetime import datetime, timezone

from sqlalchemy import Connection

from events import periods

_TARGETS = """
SELECT a.target_id, a.scope, a.scope_id, a.period, a.metric, a.target, a.actual, a.attainment,
       a.elapsed_fraction, a.pace, a.status, t.version, t.set_at
FROM read_models.target_attainment a JOIN read_models.targets t USING (target_id)
WHERE (CAST(%(period)s AS text) IS NULL OR a.period = %(period)s)
  AND (CAST(%(scope)s AS text) IS NULL OR a.scope = %(scope)s)
  AND (CAST(%(scope_id)s AS text) IS NULL OR a.scope_id = %(scope_id)s)
ORDER BY a.period, a.scope, a.scope_id, a.metric
"""

_REVIEWS = """
SELECT * FROM read_models.reviews
WHERE (CAST(%(status)s AS text) IS NULL OR status = %(status)s)
  AND (CAST(%(review_id)s AS text) IS NULL OR review_id = %(review_id)s)
ORDER BY opened_at DESC, review_id LIMIT %(limit)s
"""
_ACTIONS = "SELECT * FROM read_models.review_actions WHERE review_id = ANY(%(ids)s) ORDER BY added_at, action_id"
_FEEDBACK = """
SELECT deal_id, occurred_at, score, comment, source, owner_id, team_id FROM read_models.feedback
WHERE month >= %(start)s AND month < %(end)s
  AND (%(scope)s = 'company' OR (%(scope)s = 'rep' AND owner_id = %(scope_id)s)
       OR (%(scope)s = 'team' AND team_id = %(scope_id)s))
ORDER BY occurred_at DESC LIMIT 20
"""


def _number(value):
    return None if value is None else float(value)


def _decimal(value):
    """A target's figures as the API gives money: a decimal string, exact."""
    return None if value is None else format(value, "f")


def targets(conn: Connection, period: str | None, scope: str | None, scope_id: str | None) -> list[dict]:
    rows = conn.exec_driver_sql(_TARGETS, {"period": period, "scope": scope, "scope_id": scope_id}).mappings()
    return [{**r, "target": _decimal(r["target"]), "actual": _decimal(r["actual"]),
             "attainment": None if r["attainment"] is None else round(float(r["attainment"]), 4),
             "elapsed_fraction": round(float(r["elapsed_fraction"]), 4), "pace": _decimal(r["pace"])}
            for r in rows]


def reviews(conn: Connection, status: str | None, review_id: str | None = None, limit: int = 100) -> list[dict]:
    found = conn.exec_driver_sql(_REVIEWS, {"status": status, "review_id": review_id, "limit": limit}).mappings().all()
    if not found:
        return []
    actions = conn.exec_driver_sql(_ACTIONS, {"ids": [r["review_id"] for r in found]}).mappings().all()
    today = datetime.now(timezone.utc).date()
    out = []
    for r in found:
        own = [{**a, "overdue": a["completed_at"] is None and a["due_date"] is not None and a["due_date"] < today}
               for a in actions if a["review_id"] == r["review_id"]]
        start, end = periods.parse(r["period"])
        feedback = conn.exec_driver_sql(_FEEDBACK, {"start": start, "end": end, "scope": r["scope"],
                                                    "scope_id": r["scope_id"]}).mappings().all()
        out.append({**r, "expected": _number(r["expected"]), "actual": _number(r["actual"]),
                    "actions": own, "overdue_actions": sum(a["overdue"] for a in own),
                    "feedback": [dict(f) for f in feedback],
                    "csat_avg": round(sum(f["score"] for f in feedback) / len(feedback), 2) if feedback else None})
    return out
