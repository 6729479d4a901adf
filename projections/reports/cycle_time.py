"""Cycle-time report (SPEC §4): deals closed with an outcome in [from, to); overall cycle
days and, per stage, the per-deal dwell (summed over visits); percentiles like
PostgreSQL's percentile_cont."""
from datetime import datetime

from sqlalchemy import Connection

from domain.pipelines import Pipeline
from projections.reports.common import days, qualified

_STATS = "count(*), avg({x}), percentile_cont(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY {x})"

_QUERY = """
WITH closed AS (
    SELECT c.deal_id, c.cycle_days FROM {cycle} c
    WHERE c.outcome = %(outcome)s AND c.pipeline = %(pipeline)s
      AND (CAST(%(from)s AS timestamptz) IS NULL OR c.closed_at >= %(from)s)
      AND (CAST(%(to)s AS timestamptz) IS NULL OR c.closed_at < %(to)s)
      AND (CAST(%(owner_id)s AS text) IS NULL OR c.owner_id = %(owner_id)s)
      AND (CAST(%(team_id)s AS text) IS NULL OR c.team_id = %(team_id)s)
      AND (CAST(%(segment)s AS text) IS NULL OR c.segment = %(segment)s)),
dwell AS (
    SELECT h.stage, h.deal_id, sum(h.dwell_seconds) / 86400.0 AS dwell_days
    FROM {history} h JOIN closed USING (deal_id)
    WHERE h.dwell_seconds IS NOT NULL GROUP BY h.stage, h.deal_id)
SELECT NULL, {overall} FROM closed
UNION ALL
SELECT stage, {per_stage} FROM dwell GROUP BY stage
"""


def _stats(count, mean, percentiles) -> dict:
    p50, p75, p90 = percentiles or (None, None, None)
    return {"count": count, "mean_days": days(mean), "p50_days": days(p50), "p75_days": days(p75),
            "p90_days": days(p90)}


def cycle_time(conn: Connection, pipeline: Pipeline, schema: str, outcome: str,
               start: datetime | None, end: datetime | None, **filters) -> dict:
    sql = _QUERY.format(cycle=qualified(schema, "cycle_time_deal"),
                        history=qualified(schema, "deal_stage_history"),
                        overall=_STATS.format(x="cycle_days"), per_stage=_STATS.format(x="dwell_days"))
    rows = conn.exec_driver_sql(sql, {"outcome": outcome, "pipeline": pipeline.key, "from": start,
                                      "to": end, **filters}).all()
    overall = next(r for r in rows if r[0] is None)
    by_stage = {r[0]: r for r in rows if r[0] is not None}
    empty = (None, 0, None, None)
    return {"outcome": outcome, "pipeline": pipeline.key, "overall": _stats(*overall[1:]),
            "stages": [{"stage": s, **_stats(*by_stage.get(s, empty)[1:])} for s in pipeline.keys]}
