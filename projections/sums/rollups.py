"""Report roll-ups (projections.reports read them), recomputed per key from the deal-level and
aggregate tables: per-stage dwell of closed deals and open visits cut by amount changes (each
refresh replaces the rows of the keys it is given; None: all), and the cohort funnel per
creation month (built whole here; live writes keep it by deltas)."""
from sqlalchemy import Connection

from infra.array_text import array_text
from projections.runtime.names import schema_name


def _run(conn: Connection, template: str, schema: str, keys, filters: dict[str, str],
         params: dict, **fmt) -> None:
    """Refresh the rows of `keys` (the filters select them), or every row when keys is None."""
    if keys is not None and not keys:
        return
    if keys is None:
        filters, params = {name: "true" for name in filters}, {}
    conn.exec_driver_sql(template.format(s=schema_name(schema), **filters, **fmt), params)


_COHORT_MONTH = """
DELETE FROM {s}.funnel_cohort_month;
INSERT INTO {s}.funnel_cohort_month (pipeline, month, owner_id, team_id, segment, furthest_stage_index,
    status, deals)
SELECT c.pipeline, date_trunc('month', c.day)::date, c.owner_id, c.team_id, c.segment, c.furthest_stage_index,
       c.status, sum(c.deals)
FROM {s}.funnel_cohort c
GROUP BY 1, 2, 3, 4, 5, 6, 7;
DELETE FROM {s}.funnel_cohort_month_entered;
INSERT INTO {s}.funnel_cohort_month_entered (pipeline, month, owner_id, team_id, segment, stage, deals)
SELECT c.pipeline, date_trunc('month', c.day)::date, c.owner_id, c.team_id, c.segment, stage, sum(c.deals)
FROM {s}.funnel_cohort c, unnest(c.entered_stages) AS stage
GROUP BY 1, 2, 3, 4, 5, 6;
"""


def recompute_cohort_month(conn: Connection, schema: str) -> None:
    """funnel_cohort_month(_entered), summed from funnel_cohort (a rebuild; live writes add
    their change to them: projections.sums.deltas)."""
    conn.exec_driver_sql(_COHORT_MONTH.format(s=schema_name(schema)))


# Per closed deal and stage, the dwell summed over visits (also the as-of relation of the table:
# projections.reports.relations fills {cycle} and {history} with versioned rows).
CYCLE_STAGE_SELECT = """
SELECT c.deal_id, h.stage, c.outcome, c.pipeline, c.owner_id, c.team_id, c.segment, c.closed_at,
       sum(h.dwell_seconds ORDER BY h.visit) / 86400.0 AS dwell_days  -- one order: float sums agree
FROM {cycle} c JOIN {history} h USING (deal_id)
WHERE h.dwell_seconds IS NOT NULL AND {key_filter_c} AND {key_filter_h}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""
_CYCLE_STAGE = """
DELETE FROM {s}.cycle_time_stage t WHERE {key_filter_t};
INSERT INTO {s}.cycle_time_stage (deal_id, stage, outcome, pipeline, owner_id, team_id, segment, closed_at,
    dwell_days)""" + CYCLE_STAGE_SELECT.replace("{cycle}", "{s}.cycle_time_deal").replace(
    "{history}", "{s}.deal_stage_history") + ";\n"


def refresh_cycle_stage(conn: Connection, schema: str, keys: set[str] | None) -> None:
    """cycle_time_stage of the deals `keys` (deal_ids whose cycle_time_deal row was removed or
    added), from cycle_time_deal and deal_stage_history; None: every deal."""
    filters = {f"key_filter_{a}": f"{a}.deal_id = ANY(%(deals)s::text[])" for a in "tch"}
    _run(conn, _CYCLE_STAGE, schema, keys, filters, {"deals": array_text(sorted(keys or ()))})


# Each visit of deal_stage_history cut by the deal's amount segments: an amount row holds from
# its valid_from until the next row in (valid_from, seq) order (the latest at or before T is
# the amount at T), and before the first row the amount is null. least() skips nulls: an open
# end stays open.
OPEN_SPANS_SELECT = """
WITH amounts AS (
    SELECT a.deal_id, a.valid_from, a.amount,
           lead(a.valid_from) OVER (PARTITION BY a.deal_id ORDER BY a.valid_from, a.seq) AS valid_to
    FROM (SELECT h.deal_id, h.valid_from, h.seq, h.amount FROM {amounts} h WHERE {key_filter_h}
          UNION ALL
          SELECT d.deal_id, '-infinity', -1, NULL FROM {current} d WHERE {key_filter_d}) a),
spans AS (
    SELECT v.deal_id, v.stage, v.visit, v.pipeline, a.amount,
           greatest(v.entered_at, a.valid_from) AS span_from, least(v.exited_at, a.valid_to) AS span_to
    FROM {visits} v JOIN amounts a ON a.deal_id = v.deal_id
    WHERE {key_filter_v}
      AND (a.valid_to IS NULL OR a.valid_to > v.entered_at)
      AND (v.exited_at IS NULL OR a.valid_from < v.exited_at))
SELECT p.deal_id, p.stage, p.visit, p.span_from AS valid_from, tstzrange(p.span_from, p.span_to) AS during,
       p.pipeline, p.amount, d.owner_id, d.team_id, d.segment
FROM spans p JOIN {current} d ON d.deal_id = p.deal_id
WHERE p.span_to IS NULL OR p.span_to > p.span_from"""
_OPEN_SPANS = """
DELETE FROM {s}.funnel_open_span o WHERE {key_filter_o};
INSERT INTO {s}.funnel_open_span (deal_id, stage, visit, valid_from, during, pipeline, amount, owner_id,
    team_id, segment)""" + OPEN_SPANS_SELECT.replace("{amounts}", "{s}.deal_amount_history").replace(
    "{current}", "{s}.deal_current").replace("{visits}", "{s}.deal_stage_history") + ";\n"


def refresh_open_spans(conn: Connection, schema: str, keys: set[str] | None) -> None:
    """funnel_open_span of the deals `keys` (deal_ids written), from deal_stage_history,
    deal_amount_history and deal_current; None: every deal."""
    filters = {f"key_filter_{a}": f"{a}.deal_id = ANY(%(deals)s::text[])" for a in "ohdv"}
    _run(conn, _OPEN_SPANS, schema, keys, filters, {"deals": array_text(sorted(keys or ()))})


def recompute(conn: Connection, schema: str) -> None:
    """Every roll-up (a rebuild, after the aggregates)."""
    recompute_cohort_month(conn, schema)
    refresh_cycle_stage(conn, schema, None)
    refresh_open_spans(conn, schema, None)
