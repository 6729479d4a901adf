"""Cycle-time report (SPEC §4): deals closed with an outcome in [from, to); overall cycle
days and, per stage, the per-deal dwell (summed over visits); percentiles like
PostgreSQL's percentile_cont."""
from datetime import datetime

from sqlalchemy import Connection

from domain.pipelines import Pipeline
from projections.reports.common import Source, days, qualified
from projections.reports.relations import AsOf

_STATS = "count(*), avg({x}), percentile_cont(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY {x})"

_FILTERS = """c.outcome = %(outcome)s AND c.pipeline = %(pipeline)s
      AND (CAST(%(from)s AS timestamptz) IS NULL OR c.closed_at >= %(from)s)
      AND (CAST(%(to)s AS timestamptz) IS NULL OR c.closed_at < %(to)s)
      AND (CAST(%(owner_id)s AS text) IS NULL OR c.owner_id = %(owner_id)s)
      AND (CAST(%(team_id)s AS text) IS NULL OR c.team_id = %(team_id)s)
      AND (CAST(%(segment)s AS text) IS NULL OR c.segment = %(segment)s)"""

# Per-stage dwell comes summed per deal from cycle_time_stage (rows beside the same filters).
_QUERY = """
SELECT NULL, {overall} FROM {cycle} c WHERE {filters}
UNION ALL
SELECT c.stage, {per_stage} FROM {stage} c WHERE {filters} GROUP BY c.stage
"""

# As of a moment (relations of versioned rows): the closed deals the filters keep first, then their
# visits' dwell per stage summed as the cycle_time_stage roll-up sums it (projections.sums.rollups:
# same order, same floats) — one hash join instead of joining every deal's visits.
_AS_OF = """
WITH c AS MATERIALIZED (SELECT c.deal_id, c.cycle_days FROM {cycle} c WHERE {filters}),
s AS (SELECT h.stage, sum(h.dwell_seconds ORDER BY h.visit) / 86400.0 AS dwell_days FROM {history} h
      WHERE h.deal_id IN (SELECT deal_id FROM c) AND h.dwell_seconds IS NOT NULL GROUP BY h.deal_id, h.stage)
SELECT NULL, {overall} FROM c c
UNION ALL
SELECT c.stage, {per_stage} FROM s c GROUP BY c.stage
"""


def _stats(count, mean, percentiles) -> dict:
    p50, p75, p90 = percentiles or (None, None, None)
    return {"count": count, "mean_days": days(mean), "p50_days": days(p50), "p75_days": days(p75),
            "p90_days": days(p90)}


def cycle_time(conn: Connection, pipeline: Pipeline, schema: Source, outcome: str,
               start: datetime | None, end: datetime | None, **filters) -> dict:
    query, tables = ((_AS_OF, {"history": qualified(schema, "deal_stage_history")}) if isinstance(schema, AsOf)
                     else (_QUERY, {"stage": qualified(schema, "cycle_time_stage")}))
    sql = query.format(cycle=qualified(schema, "cycle_time_deal"), filters=_FILTERS, **tables,
                       overall=_STATS.format(x="c.cycle_days"), per_stage=_STATS.format(x="c.dwell_days"))
    rows = conn.exec_driver_sql(sql, {"outcome": outcome, "pipeline": pipeline.key, "from": start,
                                      "to": end, **filters}).all()
    overall = next(r for r in rows if r[0] is None)
    by_stage = {r[0]: r for r in rows if r[0] is not None}
    empty = (None, 0, None, None)
    return {"outcome": outcome, "pipeline": pipeline.key, "overall": _stats(*overall[1:]),
            "stages": [{"stage": s, **_stats(*by_stage.get(s, empty)[1:])} for s in pipeline.keys]}
