"""Funnel reports (SPEC §4): cohort (deals created in [from, to)) and snapshot (open deals
per stage at business time `at`)."""
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Connection

from domain.pipelines import Pipeline
from projections.reports.common import Source, deal_filters, money, qualified, ratio
from projections.reports.relations import AsOf

# Deals created in [from, to), from three sources that split the range without overlap: whole
# UTC months from funnel_cohort_month(_entered), the whole days around them from funnel_cohort,
# the partial days at the ends from deal_current. An absent bound leaves a source open-ended.
_COHORT = """
WITH by_month AS (
    SELECT d.furthest_stage_index, d.status, d.deals FROM {month} d
    WHERE %(months)s AND d.pipeline = %(pipeline)s
      AND (CAST(%(m_lo)s AS date) IS NULL OR d.month >= %(m_lo)s)
      AND (CAST(%(m_hi)s AS date) IS NULL OR d.month < %(m_hi)s) AND {filters}),
entered_by_month AS (
    SELECT d.stage, d.deals FROM {month_entered} d
    WHERE %(months)s AND d.pipeline = %(pipeline)s
      AND (CAST(%(m_lo)s AS date) IS NULL OR d.month >= %(m_lo)s)
      AND (CAST(%(m_hi)s AS date) IS NULL OR d.month < %(m_hi)s) AND {filters}),
by_day AS (
    SELECT d.furthest_stage_index, d.status, d.entered_stages, d.deals FROM {day} d
    WHERE d.pipeline = %(pipeline)s AND {filters}
      AND ((d.day >= %(d1_lo)s AND d.day < %(d1_hi)s) OR (d.day >= %(d2_lo)s AND d.day < %(d2_hi)s))),
by_deal AS (
    SELECT d.furthest_stage_index, d.status, d.entered_stages, 1 AS deals FROM {deal_current} d
    WHERE d.pipeline = %(pipeline)s AND {filters}
      AND ((d.created_at >= %(t1_lo)s AND d.created_at < %(t1_hi)s)
        OR (d.created_at >= %(t2_lo)s AND d.created_at < %(t2_hi)s))),
furthest AS (
    SELECT furthest_stage_index, status, deals FROM by_month
    UNION ALL SELECT furthest_stage_index, status, deals FROM by_day
    UNION ALL SELECT furthest_stage_index, status, deals FROM by_deal),
entered AS (
    SELECT stage, deals FROM entered_by_month
    UNION ALL SELECT stage, deals FROM by_day, unnest(entered_stages) AS stage
    UNION ALL SELECT stage, deals FROM by_deal, unnest(entered_stages) AS stage)
SELECT 'furthest', furthest_stage_index, status, sum(deals) FROM furthest GROUP BY 2, 3
UNION ALL
SELECT 'entered', NULL, stage, sum(deals) FROM entered GROUP BY 3
"""

_SNAPSHOT_NOW = """
SELECT d.stage, count(*), coalesce(sum(d.current_amount), 0) FROM {deal_current} d
WHERE d.pipeline = %(pipeline)s AND d.status = 'open' AND {filters}
GROUP BY d.stage
"""

# Open visits at `at` with the amount then: the spans containing it (at most one per visit).
_SNAPSHOT_AT = """
SELECT d.stage, count(*), coalesce(sum(d.amount), 0) FROM {spans} d
WHERE d.during @> CAST(%(at)s AS timestamptz) AND d.pipeline = %(pipeline)s AND {filters}
GROUP BY d.stage
"""

# As of a moment (relations of versioned rows): the visits open at `at` and the amount then (the
# latest amount row from at or before it, as funnel_open_span cuts them) — the spans of every
# deal are not built for one point in time.
_SNAPSHOT_AT_AS_OF = """
SELECT v.stage, count(*), coalesce(sum(a.amount), 0) FROM {visits} v
JOIN {deal_current} d ON d.deal_id = v.deal_id
LEFT JOIN LATERAL (
    SELECT h.amount FROM {amounts} h WHERE h.deal_id = v.deal_id AND h.valid_from <= CAST(%(at)s AS timestamptz)
    ORDER BY h.valid_from DESC, h.seq DESC LIMIT 1) a ON true
WHERE v.pipeline = %(pipeline)s AND v.entered_at <= CAST(%(at)s AS timestamptz)
  AND (v.exited_at IS NULL OR v.exited_at > CAST(%(at)s AS timestamptz)) AND {filters}
GROUP BY v.stage
"""


def _next_day(at: datetime) -> date:
    """The first UTC day starting at or after `at`."""
    at = at.astimezone(timezone.utc)
    return at.date() if at.time() == time(0) else at.date() + timedelta(days=1)


def _next_month(day: date) -> date:
    return day if day.day == 1 else (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), timezone.utc)


def split(start: datetime | None, end: datetime | None) -> dict:
    """[start, end) as whole months [m_lo, m_hi), whole days (d1, d2) and partial days (t1, t2)
    around them, without overlap; absent bounds are open-ended. A day or time range given as
    (None, None) is empty (its comparisons are NULL)."""
    none = (None, None)
    d_lo = None if start is None else _next_day(start)
    d_hi = None if end is None else end.astimezone(timezone.utc).date()
    if d_lo is not None and d_hi is not None and d_lo > d_hi:  # inside one day
        return {"months": False, "m_lo": None, "m_hi": None, "d1": none, "d2": none, "t1": (start, end), "t2": none}
    m_lo = None if d_lo is None else _next_month(d_lo)
    m_hi = None if d_hi is None else d_hi.replace(day=1)
    if m_lo is not None and m_hi is not None and m_lo >= m_hi:  # no whole month: days only
        return {"months": False, "m_lo": None, "m_hi": None, "d1": (d_lo, d_hi), "d2": none,
                "t1": (start, _midnight(d_lo)), "t2": (_midnight(d_hi), end)}
    return {"months": True, "m_lo": m_lo, "m_hi": m_hi,
            "d1": none if d_lo is None else (d_lo, m_lo), "d2": none if d_hi is None else (m_hi, d_hi),
            "t1": none if d_lo is None else (start, _midnight(d_lo)),
            "t2": none if d_hi is None else (_midnight(d_hi), end)}


def by_deals(start: datetime | None, end: datetime | None) -> dict:
    """split(), with the whole days read from the deals as the partial ones are (as of a moment
    the months come from snapshots, the days from no table of their own)."""
    parts, none = split(start, end), (None, None)
    if not parts["months"]:  # both bounds given, no whole month between
        return {**parts, "d1": none, "d2": none, "t1": (start, end), "t2": none}
    return {**parts, "d1": none, "d2": none,
            "t1": none if start is None else (start, _midnight(parts["m_lo"])),
            "t2": none if end is None else (_midnight(parts["m_hi"]), end)}


def cohort(conn: Connection, pipeline: Pipeline, schema: Source, start: datetime | None,
           end: datetime | None, **filters) -> dict:
    parts = by_deals(start, end) if isinstance(schema, AsOf) else split(start, end)
    sql = _COHORT.format(month=qualified(schema, "funnel_cohort_month"), day=qualified(schema, "funnel_cohort"),
                         month_entered=qualified(schema, "funnel_cohort_month_entered"),
                         deal_current=qualified(schema, "deal_current"), filters=deal_filters())
    params = {"pipeline": pipeline.key, "months": parts["months"], "m_lo": parts["m_lo"], "m_hi": parts["m_hi"],
              **{f"{name}_{side}": value for name in ("d1", "d2", "t1", "t2")
                 for side, value in zip(("lo", "hi"), parts[name])}, **filters}
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


def snapshot(conn: Connection, pipeline: Pipeline, schema: Source, at: datetime | None, **filters) -> dict:
    if at is None:
        sql = _SNAPSHOT_NOW.format(filters=deal_filters(), deal_current=qualified(schema, "deal_current"))
    elif isinstance(schema, AsOf):
        sql = _SNAPSHOT_AT_AS_OF.format(filters=deal_filters(), deal_current=qualified(schema, "deal_current"),
                                        visits=qualified(schema, "deal_stage_history"),
                                        amounts=qualified(schema, "deal_amount_history"))
    else:
        sql = _SNAPSHOT_AT.format(filters=deal_filters(), spans=qualified(schema, "funnel_open_span"))
    rows = {stage: (n, amount) for stage, n, amount in
            conn.exec_driver_sql(sql, {"pipeline": pipeline.key, "at": at, **filters})}
    return {"mode": "snapshot", "pipeline": pipeline.key,
            "stages": [{"stage": s, "open": rows.get(s, (0, 0))[0], "open_amount": money(rows.get(s, (0, 0))[1])}
                       for s in pipeline.keys]}
