"""Funnel reports (SPEC §4): cohort (deals created in [from, to)) and snapshot (open deals
per stage at business time `at`)."""
from datetime import datetime, time, timezone

from sqlalchemy import Connection

from domain.pipelines import Pipeline
from projections.reports.common import deal_filters, money, qualified, ratio

_COHORT = """
WITH cohort AS (
    SELECT d.furthest_stage_index, d.status, d.entered_stages FROM {deal_current} d
    WHERE d.pipeline = %(pipeline)s
      AND (CAST(%(from)s AS timestamptz) IS NULL OR d.created_at >= %(from)s)
      AND (CAST(%(to)s AS timestamptz) IS NULL OR d.created_at < %(to)s)
      AND {filters})
SELECT 'furthest', furthest_stage_index, status, count(*) FROM cohort GROUP BY 2, 3
UNION ALL
SELECT 'entered', NULL, stage, count(*) FROM cohort, unnest(entered_stages) AS stage GROUP BY 3
"""

# The same, summed from funnel_cohort when [from, to) are whole UTC days (no deal scan).
_COHORT_BY_DAY = """
WITH cohort AS (
    SELECT d.furthest_stage_index, d.status, d.entered_stages, d.deals FROM {funnel_cohort} d
    WHERE d.pipeline = %(pipeline)s
      AND (CAST(%(from)s AS date) IS NULL OR d.day >= %(from)s)
      AND (CAST(%(to)s AS date) IS NULL OR d.day < %(to)s)
      AND {filters})
SELECT 'furthest', furthest_stage_index, status, sum(deals) FROM cohort GROUP BY 2, 3
UNION ALL
SELECT 'entered', NULL, stage, sum(deals) FROM cohort, unnest(entered_stages) AS stage GROUP BY 3
"""

_SNAPSHOT_NOW = """
SELECT d.stage, count(*), coalesce(sum(d.current_amount), 0) FROM {deal_current} d
WHERE d.pipeline = %(pipeline)s AND d.status = 'open' AND {filters}
GROUP BY d.stage
"""

_SNAPSHOT_AT = """
SELECT v.stage, count(*), coalesce(sum(a.amount), 0)
FROM {history} v
JOIN {deal_current} d ON d.deal_id = v.deal_id
LEFT JOIN LATERAL (
    SELECT h.amount FROM {amounts} h WHERE h.deal_id = v.deal_id AND h.valid_from <= %(at)s
    ORDER BY h.valid_from DESC, h.seq DESC LIMIT 1) a ON true
WHERE v.pipeline = %(pipeline)s AND v.entered_at <= %(at)s
  AND (v.exited_at IS NULL OR v.exited_at > %(at)s) AND {filters}
GROUP BY v.stage
"""


def _whole_day(at: datetime | None) -> bool:
    return at is None or at.astimezone(timezone.utc).time() == time(0)


def _day(at: datetime | None):
    return None if at is None else at.astimezone(timezone.utc).date()


def cohort(conn: Connection, pipeline: Pipeline, schema: str, start: datetime | None,
           end: datetime | None, **filters) -> dict:
    if _whole_day(start) and _whole_day(end):
        sql = _COHORT_BY_DAY.format(funnel_cohort=qualified(schema, "funnel_cohort"), filters=deal_filters())
        params = {"pipeline": pipeline.key, "from": _day(start), "to": _day(end), **filters}
    else:
        sql = _COHORT.format(deal_current=qualified(schema, "deal_current"), filters=deal_filters())
        params = {"pipeline": pipeline.key, "from": start, "to": end, **filters}
    rows = conn.exec_driver_sql(sql, params).all()
    targets = dict(conn.exec_driver_sql(
        f"SELECT stage, target_conversion FROM {qualified(schema, 'pipeline_stage')} WHERE pipeline = %(p)s",
        {"p": pipeline.key}).all())
    furthest = [(index, status, n) for kind, index, status, n in rows if kind == "furthest"]
    entered = {stage: n for kind, _, stage, n in rows if kind == "entered"}
    created = sum(n for _, _, n in furthest)
    won = sum(n for _, status, n in furthest if status == "won")
    lost = sum(n for _, status, n in furthest if status == "lost")
    reached = [sum(n for index, _, n in furthest if index >= k) for k in range(len(pipeline.stages))]
    stages = []
    for k, stage in enumerate(pipeline.keys):
        following = reached[k + 1] if k + 1 < len(reached) else won
        entered_k = entered.get(stage, 0)
        conversion, target = ratio(following, reached[k]), targets.get(stage)
        stages.append({"stage": stage, "reached": reached[k], "entered": entered_k,
                       "skipped": reached[k] - entered_k, "conversion": conversion,
                       "target_conversion": None if target is None else float(target),
                       "leakage": conversion is not None and target is not None and conversion < target})
    return {"mode": "cohort", "pipeline": pipeline.key, "created": created, "won": won, "lost": lost,
            "win_rate": ratio(won, created), "stages": stages,
            "leakage_stages": [s["stage"] for s in stages if s["leakage"]]}


def snapshot(conn: Connection, pipeline: Pipeline, schema: str, at: datetime | None, **filters) -> dict:
    tables = {"deal_current": qualified(schema, "deal_current"),
              "history": qualified(schema, "deal_stage_history"),
              "amounts": qualified(schema, "deal_amount_history")}
    sql = (_SNAPSHOT_NOW if at is None else _SNAPSHOT_AT).format(filters=deal_filters(), **tables)
    rows = {stage: (n, amount) for stage, n, amount in
            conn.exec_driver_sql(sql, {"pipeline": pipeline.key, "at": at, **filters})}
    return {"mode": "snapshot", "pipeline": pipeline.key,
            "stages": [{"stage": s, "open": rows.get(s, (0, 0))[0], "open_amount": money(rows.get(s, (0, 0))[1])}
                       for s in pipeline.keys]}
