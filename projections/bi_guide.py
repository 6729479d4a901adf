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
  SELECT stage, status, current_amount FROM read_models.deal_current, moment WHERE recorded_from <= moment.t
  UNION ALL
  SELECT stage, status, current_amount FROM read_models.deal_current_past, moment
  WHERE recorded_from <= moment.t AND recorded_to > moment.t)
SELECT stage, count(*) AS open_deals, sum(current_amount) AS open_amount
FROM deals WHERE status = 'open' GROUP BY stage ORDER BY stage;"""),
)


def render() -> str:
    parts = [INTRO, "## Example questions\n"]
    for question, sql in EXAMPLES:
        parts.append(f"### {question}\n\n```sql{sql}\n```\n")
    parts.append("## Tables\n")
    for table in sorted(tables.metadata.tables.values(), key=lambda t: t.name):
        parts.append(_section(table.name, table.comment, [(c.name, str(c.type), c.comment) for c in table.columns]))
    parts.append("## Views\n")
    for view in sorted((*tables.AGGREGATE_VIEWS, *tables.VIEWS), key=lambda v: v.name):
        parts.append(_section(view.name, view.comment, [(c, "", doc) for c, doc in view.columns.items()]))
    return "\n".join(parts)


def _section(name: str, comment: str | None, columns: list[tuple[str, str, str | None]]) -> str:
    rows = "\n".join(f"| `{c}` | {t.lower()} | {(doc or '').replace('|', '/')} |" for c, t, doc in columns)
    return f"### `read_models.{name}`\n\n{comment or ''}\n\n| column | type | meaning |\n|---|---|---|\n{rows}\n"
