"""Aggregate tables recomputed, set-based, from the deal-level fact tables. A refresh replaces
the rows of the keys it is given (or all rows), so aggregates always equal a full recompute."""
from sqlalchemy import Connection

from projections.schema import schema_name

_FUNNEL = """
DELETE FROM {s}.funnel_daily f WHERE {key_filter_f};
INSERT INTO {s}.funnel_daily (day, pipeline, stage, owner_id, team_id, entered, advanced,
    regressed, lost, open_end_of_day, open_amount_end_of_day)
SELECT day, pipeline, stage, owner_id, team_id, entered, advanced, regressed, lost,
       sum(open_delta) OVER w, sum(amount_delta) OVER w
FROM (SELECT d.day, d.pipeline, d.stage, d.owner_id, d.team_id, sum(d.entered) AS entered,
             sum(d.advanced) AS advanced, sum(d.regressed) AS regressed, sum(d.lost) AS lost,
             sum(d.open_delta) AS open_delta, sum(d.amount_delta) AS amount_delta
      FROM {s}.funnel_delta d WHERE {key_filter_d}
      GROUP BY d.day, d.pipeline, d.stage, d.owner_id, d.team_id) g
WINDOW w AS (PARTITION BY pipeline, stage, owner_id, team_id ORDER BY day);
"""
_FUNNEL_KEYS = ("EXISTS (SELECT 1 FROM unnest(%(f_pipeline)s::text[], %(f_stage)s::text[], "
                "%(f_owner)s::text[], %(f_team)s::text[]) AS k(pipeline, stage, owner_id, team_id) "
                "WHERE k.pipeline = {a}.pipeline AND k.stage = {a}.stage "
                "AND k.owner_id IS NOT DISTINCT FROM {a}.owner_id "
                "AND k.team_id IS NOT DISTINCT FROM {a}.team_id)")

_PERFORMANCE = """
DELETE FROM {s}.{table} p WHERE {key_filter_p};
INSERT INTO {s}.{table} (month, {who}, {extra_col} revenue_won, deals_won, deals_lost, win_rate,
    avg_deal_size, avg_cycle_days, cycle_days_sum, contacts, quotes, new_deals, csat_avg, csat_sum,
    csat_count, open_deals, sales_velocity)
SELECT m.*, coalesce(o.open_deals, 0),
       CASE WHEN m.win_rate IS NOT NULL AND m.avg_cycle_days > 0
            THEN coalesce(o.open_deals, 0) * m.win_rate * m.avg_deal_size / m.avg_cycle_days END
FROM (
    SELECT a.month, a.{who}, {extra_agg}
           coalesce(sum(a.amount) FILTER (WHERE a.kind = 'won'), 0) AS revenue_won,
           count(*) FILTER (WHERE a.kind = 'won') AS deals_won,
           count(*) FILTER (WHERE a.kind = 'lost') AS deals_lost,
           count(*) FILTER (WHERE a.kind = 'won')::float8
               / nullif(count(*) FILTER (WHERE a.kind IN ('won', 'lost')), 0) AS win_rate,
           round(sum(a.amount) FILTER (WHERE a.kind = 'won') / nullif(count(*) FILTER (WHERE a.kind = 'won'), 0), 2)
               AS avg_deal_size,
           -- summed as numeric: exact, so the result does not depend on row order
           (avg(a.cycle_days::numeric) FILTER (WHERE a.kind = 'won'))::float8 AS avg_cycle_days,
           coalesce(sum(a.cycle_days::numeric) FILTER (WHERE a.kind = 'won'), 0)::float8 AS cycle_days_sum,
           count(*) FILTER (WHERE a.kind = 'contact') AS contacts,
           count(*) FILTER (WHERE a.kind = 'quote') AS quotes,
           count(*) FILTER (WHERE a.kind = 'created') AS new_deals,
           avg(a.score) FILTER (WHERE a.kind = 'feedback') AS csat_avg,
           coalesce(sum(a.score) FILTER (WHERE a.kind = 'feedback'), 0) AS csat_sum,
           count(*) FILTER (WHERE a.kind = 'feedback') AS csat_count
    FROM {s}.deal_activity a
    WHERE a.{who} IS NOT NULL AND {key_filter_a}
    GROUP BY a.month, a.{who}) m
LEFT JOIN LATERAL (
    SELECT count(DISTINCT v.deal_id) AS open_deals FROM {s}.deal_stage_history v
    WHERE v.{who} = m.{who} AND v.entered_at < m.month + interval '1 month'
      AND (v.exited_at IS NULL OR v.exited_at >= m.month + interval '1 month')) o ON true;
"""
_PERFORMANCE_KEYS = ("EXISTS (SELECT 1 FROM unnest(%(p_who)s::text[], %(p_from)s::date[]) "
                     "AS k(who, from_month) WHERE k.who = {a}.{who} AND {a}.month >= k.from_month)")


def _run(conn: Connection, template: str, schema: str, keys, filters: dict[str, str],
         params: dict, **fmt) -> None:
    """Refresh the rows of `keys` (the filters select them), or every row when keys is None."""
    if keys is not None and not keys:
        return
    if keys is None:
        filters, params = {name: "true" for name in filters}, {}
    conn.exec_driver_sql(template.format(s=schema_name(schema), **filters, **fmt), params)


def refresh_funnel(conn: Connection, schema: str, keys: set[tuple] | None) -> None:
    """keys: (pipeline, stage, owner_id, team_id); None refreshes everything."""
    columns = [list(c) for c in zip(*sorted(keys or (), key=str))] or [[], [], [], []]
    params = dict(zip(("f_pipeline", "f_stage", "f_owner", "f_team"), columns))
    filters = {"key_filter_f": _FUNNEL_KEYS.format(a="f"), "key_filter_d": _FUNNEL_KEYS.format(a="d")}
    _run(conn, _FUNNEL, schema, keys, filters, params)


def refresh_performance(conn: Connection, schema: str, scope: str,
                        keys: dict[str, object] | None) -> None:
    """scope rep|team; keys: {owner_or_team: first month to recompute}; None: everything."""
    who = "owner_id" if scope == "rep" else "team_id"
    table = "rep_performance_month" if scope == "rep" else "team_performance_month"
    extra_col = "team_id," if scope == "rep" else ""
    extra_agg = ("(array_agg(a.team_id ORDER BY a.occurred_at DESC, a.deal_id DESC, a.seq DESC))[1] "
                 "AS team_id," if scope == "rep" else "")
    params = {"p_who": list(keys or ()), "p_from": list((keys or {}).values())}
    filters = {"key_filter_p": _PERFORMANCE_KEYS.format(a="p", who=who),
               "key_filter_a": _PERFORMANCE_KEYS.format(a="a", who=who)}
    _run(conn, _PERFORMANCE, schema, keys, filters, params, table=table, who=who, extra_col=extra_col,
         extra_agg=extra_agg)


_COHORT = """
DELETE FROM {s}.funnel_cohort c WHERE {key_filter_c};
INSERT INTO {s}.funnel_cohort (pipeline, day, owner_id, team_id, segment, furthest_stage_index,
    status, entered_stages, deals)
SELECT d.pipeline, (d.created_at AT TIME ZONE 'UTC')::date, d.owner_id, d.team_id, d.segment,
       d.furthest_stage_index, d.status, d.entered_stages, count(*)
FROM {s}.deal_current d WHERE {key_filter_d}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
"""
_COHORT_KEYS = ("EXISTS (SELECT 1 FROM unnest(%(c_pipeline)s::text[], %(c_day)s::date[]) AS k(pipeline, day) "
                "WHERE k.pipeline = {a}.pipeline AND {day_match})")


def refresh_cohort(conn: Connection, schema: str, keys: set[tuple] | None) -> None:
    """keys: (pipeline, UTC creation day); None refreshes everything."""
    params = {"c_pipeline": [k[0] for k in keys or ()], "c_day": [k[1] for k in keys or ()]}
    day_of_deal = ("d.created_at >= (k.day::timestamp AT TIME ZONE 'UTC') "
                   "AND d.created_at < ((k.day + 1)::timestamp AT TIME ZONE 'UTC')")
    filters = {"key_filter_c": _COHORT_KEYS.format(a="c", day_match="k.day = c.day"),
               "key_filter_d": _COHORT_KEYS.format(a="d", day_match=day_of_deal)}
    _run(conn, _COHORT, schema, keys, filters, params)


_COHORT_MONTH = """
DELETE FROM {s}.funnel_cohort_month m WHERE {key_filter_m};
INSERT INTO {s}.funnel_cohort_month (pipeline, month, owner_id, team_id, segment, furthest_stage_index,
    status, deals)
SELECT c.pipeline, date_trunc('month', c.day)::date, c.owner_id, c.team_id, c.segment, c.furthest_stage_index,
       c.status, sum(c.deals)
FROM {s}.funnel_cohort c WHERE {key_filter_c}
GROUP BY 1, 2, 3, 4, 5, 6, 7;
DELETE FROM {s}.funnel_cohort_month_entered m WHERE {key_filter_m};
INSERT INTO {s}.funnel_cohort_month_entered (pipeline, month, owner_id, team_id, segment, stage, deals)
SELECT c.pipeline, date_trunc('month', c.day)::date, c.owner_id, c.team_id, c.segment, stage, sum(c.deals)
FROM {s}.funnel_cohort c, unnest(c.entered_stages) AS stage WHERE {key_filter_c}
GROUP BY 1, 2, 3, 4, 5, 6;
"""
_COHORT_MONTH_KEYS = ("EXISTS (SELECT 1 FROM unnest(%(m_pipeline)s::text[], %(m_month)s::date[]) AS k(pipeline, month) "
                      "WHERE k.pipeline = {a}.pipeline AND {month_match})")


def refresh_cohort_month(conn: Connection, schema: str, keys: set[tuple] | None) -> None:
    """funnel_cohort_month(_entered), summed from funnel_cohort (refresh that first). keys:
    (pipeline, UTC creation day) as for refresh_cohort — their months are recomputed."""
    months = None if keys is None else {(pipeline, day.replace(day=1)) for pipeline, day in keys}
    params = {"m_pipeline": [k[0] for k in months or ()], "m_month": [k[1] for k in months or ()]}
    day_in_month = "c.day >= k.month AND c.day < (k.month + interval '1 month')::date"
    filters = {"key_filter_m": _COHORT_MONTH_KEYS.format(a="m", month_match="k.month = m.month"),
               "key_filter_c": _COHORT_MONTH_KEYS.format(a="c", month_match=day_in_month)}
    _run(conn, _COHORT_MONTH, schema, months, filters, params)


_CYCLE_STAGE = """
DELETE FROM {s}.cycle_time_stage t WHERE {key_filter_t};
INSERT INTO {s}.cycle_time_stage (deal_id, stage, outcome, pipeline, owner_id, team_id, segment, closed_at,
    dwell_days)
SELECT c.deal_id, h.stage, c.outcome, c.pipeline, c.owner_id, c.team_id, c.segment, c.closed_at,
       sum(h.dwell_seconds) / 86400.0
FROM {s}.cycle_time_deal c JOIN {s}.deal_stage_history h USING (deal_id)
WHERE h.dwell_seconds IS NOT NULL AND {key_filter_c} AND {key_filter_h}
GROUP BY c.deal_id, h.stage;
"""


def refresh_cycle_stage(conn: Connection, schema: str, keys: set[str] | None) -> None:
    """cycle_time_stage of the deals `keys` (deal_ids whose cycle_time_deal row was removed or
    added), from cycle_time_deal and deal_stage_history; None: every deal."""
    filters = {f"key_filter_{a}": f"{a}.deal_id = ANY(%(deals)s)" for a in "tch"}
    _run(conn, _CYCLE_STAGE, schema, keys, filters, {"deals": sorted(keys or ())})


# Each visit of deal_stage_history cut by the deal's amount segments: an amount row holds from
# its valid_from until the next row in (valid_from, seq) order (the latest at or before T is
# the amount at T), and before the first row the amount is null. least() skips nulls: an open
# end stays open.
_OPEN_SPANS = """
DELETE FROM {s}.funnel_open_span o WHERE {key_filter_o};
INSERT INTO {s}.funnel_open_span (deal_id, stage, visit, valid_from, during, pipeline, amount, owner_id,
    team_id, segment)
WITH amounts AS (
    SELECT a.deal_id, a.valid_from, a.amount,
           lead(a.valid_from) OVER (PARTITION BY a.deal_id ORDER BY a.valid_from, a.seq) AS valid_to
    FROM (SELECT h.deal_id, h.valid_from, h.seq, h.amount FROM {s}.deal_amount_history h WHERE {key_filter_h}
          UNION ALL
          SELECT d.deal_id, '-infinity', -1, NULL FROM {s}.deal_current d WHERE {key_filter_d}) a),
spans AS (
    SELECT v.deal_id, v.stage, v.visit, v.pipeline, a.amount,
           greatest(v.entered_at, a.valid_from) AS span_from, least(v.exited_at, a.valid_to) AS span_to
    FROM {s}.deal_stage_history v JOIN amounts a ON a.deal_id = v.deal_id
    WHERE {key_filter_v}
      AND (a.valid_to IS NULL OR a.valid_to > v.entered_at)
      AND (v.exited_at IS NULL OR a.valid_from < v.exited_at))
SELECT p.deal_id, p.stage, p.visit, p.span_from, tstzrange(p.span_from, p.span_to), p.pipeline, p.amount,
       d.owner_id, d.team_id, d.segment
FROM spans p JOIN {s}.deal_current d ON d.deal_id = p.deal_id
WHERE p.span_to IS NULL OR p.span_to > p.span_from;
"""


def refresh_open_spans(conn: Connection, schema: str, keys: set[str] | None) -> None:
    """funnel_open_span of the deals `keys` (deal_ids written), from deal_stage_history,
    deal_amount_history and deal_current; None: every deal."""
    filters = {f"key_filter_{a}": f"{a}.deal_id = ANY(%(deals)s)" for a in "ohdv"}
    _run(conn, _OPEN_SPANS, schema, keys, filters, {"deals": sorted(keys or ())})
