"""The BI guide (docs/bi.md), rendered from the read models' declarations — the same texts
COMMENT ON gives BI tools — plus example questions as SQL. `dealtrail bi-guide` writes it; a
test fails when the committed guide differs from a fresh rendering. Pure."""
from projections.tables import declared as tables

INTRO = """# Dealtrail for BI analysts

Every table and view below lives in the schema `read_models` and is readable by the role
`bi_reader`: make a login for your tool with `dealtrail bi-login create NAME` (it prints the URL;
`dealtrail up --pg-port 5433` serves the embedded database on TCP). A statement ends after 30 s, a
transaction left open after 60 s (the deployment may set other limits), and temporary tables are
not allowed. The tables are projections of the event log, rebuilt from it at any time (a rebuild
ends BI sessions that hold its tables for over a minute); business times (`occurred_at`, `created_at`, `closed_at`,
`day`, `month`, ...) are UTC. Money is `numeric` in the deployment's reporting currency. This
file is generated from the tables' own comments by `dealtrail bi-guide`: do not edit it by hand.
"""

# (question, SQL): each runs as bi_reader in the tests
EXAMPLES = (
    ("Revenue by team and month", """
SELECT month, team_id, revenue_won, deals_won, win_rate
FROM read_models.team_performance_month
ORDER BY month, team_id;"""),
    ("Conversion trend: deals created per month, and how many were won", """
SELECT date_trunc('month', created_at) AS month, count(*) AS created,
       count(*) FILTER (WHERE status = 'won') AS won,
       round(count(*) FILTER (WHERE status = 'won')::numeric / count(*), 4) AS win_rate
FROM read_models.deal_current
GROUP BY 1 ORDER BY 1;"""),
    ("Median cycle time of won deals by segment (days)", """
SELECT segment, count(*) AS deals,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle_days)::numeric, 2) AS median_days
FROM read_models.cycle_time_deal
WHERE outcome = 'won'
GROUP BY segment ORDER BY segment;"""),
    ("Stalled deals by rep", """
SELECT owner_id, count(*) AS stalled, sum(current_amount) AS amount_at_risk,
       round(max(days_since_activity)::numeric, 1) AS longest_quiet_days
FROM read_models.stalled_deals
GROUP BY owner_id ORDER BY stalled DESC;"""),
    ("Forecast vs actual, company, by month", """
SELECT s.period, s.won_to_date + s.historical_forecast AS forecast,
       coalesce(sum(p.revenue_won), 0) AS actual, s.partial
FROM read_models.forecast_snapshot s
LEFT JOIN read_models.rep_performance_month p ON p.month = to_date(s.period || '-01', 'YYYY-MM-DD')
WHERE s.scope = 'company' AND s.period ~ '^[0-9]{4}-[0-9]{2}$'
GROUP BY s.period, s.won_to_date, s.historical_forecast, s.partial ORDER BY s.period;"""),
    ("Open deals per stage as the system knew them at a moment (bitemporal: a table's rows then are its "
     "rows recorded since before then plus its _past versions whose recorded range holds then)", """
WITH moment AS (SELECT now() AS t),  -- any past moment, e.g. timestamptz '2026-10-01 09:00Z'
deals AS (
  SELECT pipeline, stage, status, current_amount FROM read_models.deal_current, moment
  WHERE recorded_from <= moment.t
  UNION ALL
  SELECT pipeline, stage, status, current_amount FROM read_models.deal_current_past, moment
  WHERE recorded_from <= moment.t AND recorded_to > moment.t)
SELECT d.pipeline, d.stage, count(*) AS open_deals, sum(d.current_amount) AS open_amount
FROM deals d JOIN read_models.pipeline_stage s USING (pipeline, stage)  -- stages in pipeline order
WHERE d.status = 'open' GROUP BY d.pipeline, d.stage, s.stage_index ORDER BY d.pipeline, s.stage_index;"""),
)


# What a BI user needs, in the order a reader meets it; every other relation is listed apart.
START_HERE = (
    ("Deals", ("deal_current", "deal_stage_history", "deal_amount_history", "deal_activity", "feedback",
               "stalled_deals")),
    ("Funnel", ("funnel_daily", "funnel_cohort", "funnel_cohort_month", "funnel_cohort_month_entered",
                "funnel_open_span", "pipeline_stage")),
    ("Cycle time", ("cycle_time_deal", "cycle_time_stage")),
    ("Performance, targets, reviews, forecast", ("rep_performance_month", "team_performance_month",
                                                 "targets", "target_history", "target_attainment",
                                                 "reviews", "review_actions", "overdue_actions",
                                                 "forecast_snapshot")),
)
# Earlier versions of rows (reports as of a recorded moment; see the last example).
HISTORY = ("deal_current_past", "deal_stage_history_past", "deal_amount_history_past", "deal_activity_past",
           "cycle_time_deal_past", "versions_since")

# Column types of the views, as PostgreSQL reports them for a migrated database (views declare
# no types; tests/integration/test_bi_guide.py fails when these differ from the database's).
VIEW_TYPES = {
    "funnel_daily": {
        "day": "date", "pipeline": "text", "stage": "text", "owner_id": "text", "team_id": "text",
        "entered": "integer", "advanced": "integer", "regressed": "integer", "lost": "integer",
        "open_end_of_day": "integer", "open_amount_end_of_day": "numeric",
    },
    "overdue_actions": {
        "review_id": "text", "action_id": "text", "title": "text", "owner_id": "text", "due_date": "date",
        "added_at": "timestamp with time zone", "completed_at": "timestamp with time zone", "outcome": "text",
        "scope": "text", "scope_id": "text", "period": "text",
    },
    "rep_performance_month": {
        "month": "date", "owner_id": "text", "team_id": "text", "revenue_won": "numeric",
        "deals_won": "integer", "deals_lost": "integer", "win_rate": "double precision",
        "avg_deal_size": "numeric", "avg_cycle_days": "double precision", "cycle_days_sum": "double precision",
        "contacts": "integer", "quotes": "integer", "new_deals": "integer", "csat_avg": "double precision",
        "csat_sum": "integer", "csat_count": "integer", "open_deals": "integer",
        "sales_velocity": "double precision",
    },
    "stalled_deals": {
        "deal_id": "text", "title": "text", "owner_id": "text", "team_id": "text", "pipeline": "text",
        "stage": "text", "stage_entered_at": "timestamp with time zone",
        "last_activity_at": "timestamp with time zone", "stall_after_days": "integer",
        "days_since_activity": "numeric", "stalled_since": "timestamp with time zone",
        "current_amount": "numeric",
    },
    "target_actuals": {
        "target_id": "text", "metric": "text", "actual": "numeric",
    },
    "target_attainment": {
        "target_id": "text", "scope": "text", "scope_id": "text", "period": "text", "metric": "text",
        "target": "numeric", "actual": "numeric", "attainment": "numeric", "elapsed_fraction": "numeric",
        "pace": "numeric", "status": "text", "deviation": "boolean",
    },
    "team_performance_month": {
        "month": "date", "team_id": "text", "revenue_won": "numeric", "deals_won": "integer",
        "deals_lost": "integer", "win_rate": "double precision", "avg_deal_size": "numeric",
        "avg_cycle_days": "double precision", "cycle_days_sum": "double precision", "contacts": "integer",
        "quotes": "integer", "new_deals": "integer", "csat_avg": "double precision", "csat_sum": "integer",
        "csat_count": "integer", "open_deals": "integer", "sales_velocity": "double precision",
    },
}


def _relations() -> dict[str, tuple[str | None, list[tuple[str, str, str | None]]]]:
    """Every table and view by name (a view once, though two declarations list some)."""
    found = {t.name: (t.comment, [(c.name, str(c.type), c.comment) for c in t.columns])
             for t in tables.metadata.tables.values()}
    for view in (*tables.AGGREGATE_VIEWS, *tables.VIEWS):
        types = VIEW_TYPES.get(view.name, {})
        found[view.name] = (view.comment, [(c, types.get(c, ""), doc) for c, doc in view.columns.items()])
    return found


def render() -> str:
    relations = _relations()
    start = [name for _, names in START_HERE for name in names]
    internal = sorted(set(relations) - set(start) - set(HISTORY))
    parts = [INTRO, "## Start here\n"]
    for group, names in START_HERE:
        parts.append(f"- {group}: " + ", ".join(f"[`{n}`](#read_models{n})" for n in names))
    parts.append("\nEarlier versions of rows (reports as of a recorded moment): "
                 + ", ".join(f"`{n}`" for n in HISTORY) + ". The other relations are the projection's "
                 "own bookkeeping and the sums behind the views (listed last, not for reporting).\n")
    parts.append("## Example questions\n")
    for question, sql in EXAMPLES:
        parts.append(f"### {question}\n\n```sql{sql}\n```\n")
    for title, names in (("Tables and views for reporting", start),
                         ("History: earlier versions of rows", HISTORY),
                         ("Internal: bookkeeping and sums behind the views (not for reporting)", internal)):
        parts.append(f"## {title}\n")
        parts += [_section(name, *relations[name]) for name in names]
    return "\n".join(parts)


def _section(name: str, comment: str | None, columns: list[tuple[str, str, str | None]]) -> str:
    rows = "\n".join(f"| `{c}` | {t.lower()} | {(doc or '').replace('|', '/')} |" for c, t, doc in columns)
    return f"### `read_models.{name}`\n\n{comment or ''}\n\n| column | type | meaning |\n|---|---|---|\n{rows}\n"
