"""The SQL of the sums tables (projections.sums.deltas): per-key upserts of a change, the
deletes of keys a decrease emptied (each an index probe), and the set-based full build; the
month sums' SELECT is also the as-of relation of those tables (projections.reports.relations)."""
from projections.tables import declared as tables

FUNNEL_UPSERT = """
INSERT INTO {s}.funnel_day_sums AS t (day, pipeline, stage, owner_id, team_id, entered, advanced, regressed,
    lost, open_delta, amount_delta, deltas)
SELECT * FROM unnest(%(f_day)s::date[], %(f_pipeline)s::text[], %(f_stage)s::text[], %(f_owner)s::text[],
    %(f_team)s::text[], %(f_entered)s::int[], %(f_advanced)s::int[], %(f_regressed)s::int[], %(f_lost)s::int[],
    %(f_open)s::int[], %(f_amount)s::numeric[], %(f_deltas)s::int[])
ON CONFLICT (day, pipeline, stage, owner_id, team_id) DO UPDATE SET
    entered = t.entered + excluded.entered, advanced = t.advanced + excluded.advanced,
    regressed = t.regressed + excluded.regressed, lost = t.lost + excluded.lost,
    open_delta = t.open_delta + excluded.open_delta, amount_delta = t.amount_delta + excluded.amount_delta,
    deltas = t.deltas + excluded.deltas;
"""
# Rows emptied by a decrease go. Each candidate key is probed through its index (the LIMIT keeps
# the lateral a per-key probe: a join could scan the whole table for its few empty rows).
FUNNEL_GONE = """
DELETE FROM {s}.funnel_day_sums WHERE ctid = ANY(ARRAY(
    SELECT x.ctid FROM unnest(%(fg_day)s::date[], %(fg_pipeline)s::text[], %(fg_stage)s::text[],
        %(fg_owner)s::text[], %(fg_team)s::text[]) AS k(day, pipeline, stage, owner_id, team_id)
    CROSS JOIN LATERAL (
        SELECT t.ctid FROM {s}.funnel_day_sums t
        WHERE t.day = k.day AND t.pipeline = k.pipeline AND t.stage = k.stage
          AND t.owner_id IS NOT DISTINCT FROM k.owner_id AND t.team_id IS NOT DISTINCT FROM k.team_id
          AND t.deltas = 0 LIMIT 1) x));
"""

FUNNEL_NAMES = ("day", "pipeline", "stage", "owner", "team", "entered", "advanced", "regressed", "lost", "open",
                 "amount", "deltas")
COHORT_NAMES = ("pipeline", "day", "owner", "team", "segment", "furthest", "status", "stages", "deals")
MONTH_COLUMNS = ("activities", "revenue_won", "deals_won", "deals_lost", "cycle_days_sum", "contacts", "quotes",
                  "new_deals", "csat_sum", "csat_count", "open_delta")
_MONTH_TYPES = ("int", "numeric", "int", "int", "numeric", "int", "int", "int", "int", "int", "int")

_MONTH_UPSERT = """
INSERT INTO {s}.{table} AS t (month, {who}, {columns})
SELECT {values} FROM unnest(%({p}_month)s::date[], %({p}_who)s::text[], {arrays}) AS k(month, who, {columns})
ON CONFLICT (month, {who}) DO UPDATE SET {sums};
"""
_MONTH_GONE = """
DELETE FROM {s}.{table} WHERE ctid = ANY(ARRAY(
    SELECT x.ctid FROM unnest(%({p}g_month)s::date[], %({p}g_who)s::text[]) AS k(month, who)
    CROSS JOIN LATERAL (
        SELECT t.ctid FROM {s}.{table} t
        WHERE t.month = k.month AND t.{who} = k.who AND t.activities = 0 AND t.open_delta = 0 LIMIT 1) x));
"""

# The rep's team in their latest activity of the month, re-read for the (month, rep) keys whose
# activity rows changed (one index probe each, the last entry of deal_activity_owner_id_month_occurred_at_idx).
REP_TEAM = """
UPDATE {s}.rep_month_sums t SET team_id = (
    SELECT a.team_id FROM {s}.deal_activity a WHERE a.owner_id = t.owner_id AND a.month = t.month
    ORDER BY a.occurred_at DESC, a.deal_id DESC, a.seq DESC LIMIT 1)
FROM unnest(%(t_month)s::date[], %(t_who)s::text[]) AS k(month, who)
WHERE t.month = k.month AND t.owner_id = k.who;
"""

COHORT_UPSERT = """
INSERT INTO {s}.funnel_cohort AS t (pipeline, day, owner_id, team_id, segment, furthest_stage_index, status,
    entered_stages, deals)
SELECT k.pipeline, k.day, k.owner_id, k.team_id, k.segment, k.furthest_stage_index, k.status,
       k.entered_stages::text[], k.deals
FROM unnest(%(c_pipeline)s::text[], %(c_day)s::date[], %(c_owner)s::text[], %(c_team)s::text[],
    %(c_segment)s::text[], %(c_furthest)s::int[], %(c_status)s::text[], %(c_stages)s::text[], %(c_deals)s::int[])
    AS k(pipeline, day, owner_id, team_id, segment, furthest_stage_index, status, entered_stages, deals)
ON CONFLICT (pipeline, day, owner_id, team_id, segment, furthest_stage_index, status, entered_stages)
DO UPDATE SET deals = t.deals + excluded.deals;
"""
COHORT_GONE = """
DELETE FROM {s}.funnel_cohort WHERE ctid = ANY(ARRAY(
    SELECT x.ctid FROM unnest(%(cg_pipeline)s::text[], %(cg_day)s::date[], %(cg_owner)s::text[],
        %(cg_team)s::text[], %(cg_segment)s::text[], %(cg_furthest)s::int[], %(cg_status)s::text[],
        %(cg_stages)s::text[]) AS k(pipeline, day, owner_id, team_id, segment, furthest_stage_index, status,
                                    entered_stages)
    CROSS JOIN LATERAL (
        SELECT t.ctid FROM {s}.funnel_cohort t
        WHERE t.pipeline = k.pipeline AND t.day = k.day AND t.owner_id IS NOT DISTINCT FROM k.owner_id
          AND t.team_id IS NOT DISTINCT FROM k.team_id AND t.segment IS NOT DISTINCT FROM k.segment
          AND t.furthest_stage_index = k.furthest_stage_index AND t.status = k.status
          AND t.entered_stages = k.entered_stages::text[] AND t.deals = 0 LIMIT 1) x));
"""

# The cohort funnel per creation month (funnel_cohort summed by month): the same change, by month.
# Key columns as (column, parameter name, SQL type); each table counts `deals` per key.
_COHORT_MONTH_KEY = (("pipeline", "pipeline", "text"), ("month", "month", "date"), ("owner_id", "owner", "text"),
                     ("team_id", "team", "text"), ("segment", "segment", "text"))
COHORT_MONTH_KEY = (*_COHORT_MONTH_KEY, ("furthest_stage_index", "furthest", "int"), ("status", "status", "text"))
ENTERED_KEY = (*_COHORT_MONTH_KEY, ("stage", "stage", "text"))

_DEALS_UPSERT = """
INSERT INTO {s}.{table} AS t ({columns}, deals)
SELECT * FROM unnest({arrays}, %({p}_deals)s::int[])
ON CONFLICT ({columns}) DO UPDATE SET deals = t.deals + excluded.deals;
"""
_DEALS_GONE = """
DELETE FROM {s}.{table} WHERE ctid = ANY(ARRAY(
    SELECT x.ctid FROM unnest({gone_arrays}) AS k({columns})
    CROSS JOIN LATERAL (
        SELECT t.ctid FROM {s}.{table} t WHERE {match} AND t.deals = 0 LIMIT 1) x));
"""


def deals_statements(table: str, p: str, key: tuple) -> tuple[str, str, tuple[str, ...]]:
    """Upsert and emptied-key delete of a table counting `deals` per `key`, and the parameter
    names (prefixed `p_` and `pg_`) in row order; nullable key columns (as declared) match with
    IS NOT DISTINCT FROM."""
    declared = tables.metadata.tables[f"{tables.SCHEMA}.{table}"].c
    columns = ", ".join(column for column, _, _ in key)
    match = " AND ".join(f"t.{c} IS NOT DISTINCT FROM k.{c}" if declared[c].nullable else f"t.{c} = k.{c}"
                         for c, _, _ in key)

    def arrays(prefix: str) -> str:
        return ", ".join(f"%({prefix}_{name})s::{kind}[]" for _, name, kind in key)
    upsert = _DEALS_UPSERT.format(s="{s}", table=table, columns=columns, arrays=arrays(p), p=p)
    gone = _DEALS_GONE.format(s="{s}", table=table, columns=columns, gone_arrays=arrays(p + "g"), match=match)
    return upsert, gone, (*(name for _, name, _ in key), "deals")


def month_statements(table: str, who: str, p: str) -> tuple[str, str]:
    # cycle_days_sum is kept with its trailing zeros trimmed: the same numeric whichever rows
    # were added and removed on the way (a division by it then rounds the same)
    upsert = _MONTH_UPSERT.format(
        s="{s}", table=table, who=who, p=p, columns=", ".join(MONTH_COLUMNS),
        values=", ".join(["k.month", "k.who", *(f"trim_scale(k.{c})" if c == "cycle_days_sum" else f"k.{c}"
                                                 for c in MONTH_COLUMNS)]),
        arrays=", ".join(f"%({p}_{c})s::{t}[]" for c, t in zip(MONTH_COLUMNS, _MONTH_TYPES)),
        sums=", ".join(f"{c} = " + (f"trim_scale(t.{c} + excluded.{c})" if c == "cycle_days_sum"
                                    else f"t.{c} + excluded.{c}") for c in MONTH_COLUMNS))
    return upsert, _MONTH_GONE.format(s="{s}", table=table, who=who, p=p)


RECOMPUTE = """
DELETE FROM {s}.funnel_day_sums;
INSERT INTO {s}.funnel_day_sums (day, pipeline, stage, owner_id, team_id, entered, advanced, regressed, lost,
    open_delta, amount_delta, deltas)
SELECT day, pipeline, stage, owner_id, team_id, sum(entered), sum(advanced), sum(regressed), sum(lost),
       sum(open_delta), sum(amount_delta), count(*)
FROM {s}.funnel_delta GROUP BY day, pipeline, stage, owner_id, team_id;
DELETE FROM {s}.funnel_cohort;
INSERT INTO {s}.funnel_cohort (pipeline, day, owner_id, team_id, segment, furthest_stage_index, status,
    entered_stages, deals)
SELECT pipeline, (created_at AT TIME ZONE 'UTC')::date, owner_id, team_id, segment, furthest_stage_index, status,
       entered_stages, count(*)
FROM {s}.deal_current GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
"""

# Per month and rep (team) from the deal-level rows (also the as-of relation of the sums tables:
# projections.reports.relations fills {activity} and {visits} with versioned rows).
MONTHS_SELECT = ("""
SELECT month, {who}, {extra_agg} coalesce(sum(activities), 0)::integer AS activities,
       coalesce(sum(revenue_won), 0) AS revenue_won, coalesce(sum(deals_won), 0)::integer AS deals_won,
       coalesce(sum(deals_lost), 0)::integer AS deals_lost, """
                 """trim_scale(coalesce(sum(cycle_days_sum), 0)) AS cycle_days_sum,
       coalesce(sum(contacts), 0)::integer AS contacts, coalesce(sum(quotes), 0)::integer AS quotes,
       coalesce(sum(new_deals), 0)::integer AS new_deals, coalesce(sum(csat_sum), 0)::integer AS csat_sum,
       coalesce(sum(csat_count), 0)::integer AS csat_count, coalesce(sum(open_delta), 0)::integer AS open_delta
FROM (
    SELECT a.month, a.{who}, {extra_sel} count(*) AS activities,
           sum(a.amount) FILTER (WHERE a.kind = 'won') AS revenue_won,
           count(*) FILTER (WHERE a.kind = 'won') AS deals_won,
           count(*) FILTER (WHERE a.kind = 'lost') AS deals_lost,
           sum(a.cycle_days::numeric) FILTER (WHERE a.kind = 'won') AS cycle_days_sum,
           count(*) FILTER (WHERE a.kind = 'contact') AS contacts,
           count(*) FILTER (WHERE a.kind = 'quote') AS quotes,
           count(*) FILTER (WHERE a.kind = 'created') AS new_deals,
           sum(a.score) FILTER (WHERE a.kind = 'feedback') AS csat_sum,
           count(*) FILTER (WHERE a.kind = 'feedback') AS csat_count, 0 AS open_delta
    FROM {activity} a WHERE a.{who} IS NOT NULL GROUP BY a.month, a.{who}
    UNION ALL
    SELECT date_trunc('month', m.at AT TIME ZONE 'UTC')::date, m.{who}, {extra_null} 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           sum(m.delta)
    FROM (SELECT v.{who}, v.entered_at AS at, 1 AS delta FROM {visits} v WHERE v.{who} IS NOT NULL
          UNION ALL
          SELECT v.{who}, v.exited_at, -1 FROM {visits} v
          WHERE v.{who} IS NOT NULL AND v.exited_at IS NOT NULL) m
    GROUP BY 1, 2) x
GROUP BY month, {who}
HAVING coalesce(sum(activities), 0) <> 0 OR coalesce(sum(open_delta), 0) <> 0""")
MONTHS = """
DELETE FROM {s}.{table};
INSERT INTO {s}.{table} (month, {who}, {extra_col} activities, revenue_won, deals_won, deals_lost,
    cycle_days_sum, contacts, quotes, new_deals, csat_sum, csat_count, open_delta)
""" + MONTHS_SELECT.replace("{activity}", "{s}.deal_activity").replace("{visits}", "{s}.deal_stage_history") + ";\n"
# The rep's team: in their latest activity of the month.
MONTHS_BY = {
    "owner_id": dict(extra_col="team_id,", extra_sel="(array_agg(a.team_id ORDER BY a.occurred_at DESC, "
                     "a.deal_id DESC, a.seq DESC))[1] AS team_id,",
                     extra_null="NULL,", extra_agg="max(team_id) AS team_id,"),
    "team_id": dict(extra_col="", extra_sel="", extra_null="", extra_agg=""),
}
