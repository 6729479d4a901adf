"""Closed loop: targets, attainment, reviews and actions, feedback, forecast snapshots.

Revision ID: 0004
Revises: 0003
"""
import importlib

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_m2 = importlib.import_module("infra.migrations.versions.0002_read_models")

TABLES = [
    ("targets", "Current value of each target (scope, scope_id, period, metric); a new target.set supersedes the old value.", [
        ("target_id", "text PRIMARY KEY", "scope.scope_id.period.metric (stream target:<target_id>)."),
        ("scope", "text NOT NULL", "rep, team or company."),
        ("scope_id", "text NOT NULL", "Rep id, team id, or the company id."),
        ("period", "text NOT NULL", "2026-11, 2026-Q4 or 2026."),
        ("period_start", "date NOT NULL", "First day of the period."),
        ("period_end", "date NOT NULL", "First day after the period."),
        ("metric", "text NOT NULL", "revenue, deals_won, new_deals, win_rate, avg_cycle_days or contacts."),
        ("value", "numeric NOT NULL", "The target value in force."),
        ("version", "integer NOT NULL", "How many times it was set."),
        ("set_at", "timestamptz NOT NULL", "occurred_at of the latest target.set."),
    ], ["CREATE INDEX ON read_models.targets (period)", "CREATE INDEX ON read_models.targets (scope, scope_id)"]),
    ("target_history", "Every value a target ever had.", [
        ("target_id", "text NOT NULL", "The target."),
        ("version", "integer NOT NULL", "1, 2, ..."),
        ("value", "numeric NOT NULL", "The value set."),
        ("set_at", "timestamptz NOT NULL", "occurred_at of that target.set."),
    ], ["ALTER TABLE read_models.target_history ADD PRIMARY KEY (target_id, version)"]),
    ("reviews", "Review meetings' subjects: opened by a deviation alert, stalled deals or by hand.", [
        ("review_id", "text PRIMARY KEY", "Stream review:<review_id>."),
        ("trigger", "text NOT NULL", "deviation, stalled or manual."),
        ("scope", "text NOT NULL", "rep, team or company."),
        ("scope_id", "text NOT NULL", "Who it concerns."),
        ("period", "text NOT NULL", "The period it concerns."),
        ("metric", "text NOT NULL", "The metric that triggered it."),
        ("expected", "numeric", "Expected value (e.g. the pace) when opened."),
        ("actual", "numeric", "Actual value when opened."),
        ("notes", "text", "Notes given when opened."),
        ("status", "text NOT NULL", "open or closed."),
        ("opened_at", "timestamptz NOT NULL", "When opened."),
        ("closed_at", "timestamptz", "When closed."),
        ("summary", "text", "Summary given when closed."),
        ("actions_total", "integer NOT NULL", "Actions added."),
        ("actions_open", "integer NOT NULL", "Actions not completed."),
        ("version", "integer NOT NULL", "Stream version."),
    ], ["CREATE INDEX ON read_models.reviews (status)", "CREATE INDEX ON read_models.reviews (scope, scope_id, period)"]),
    ("review_actions", "Action items agreed in reviews.", [
        ("review_id", "text NOT NULL", "The review."),
        ("action_id", "text NOT NULL", "Action id (unique within the review)."),
        ("title", "text NOT NULL", "What is to be done."),
        ("owner_id", "text NOT NULL", "Who does it."),
        ("due_date", "date", "By when."),
        ("added_at", "timestamptz NOT NULL", "When agreed."),
        ("completed_at", "timestamptz", "When completed; null while open."),
        ("outcome", "text", "Outcome given on completion."),
    ], ["ALTER TABLE read_models.review_actions ADD PRIMARY KEY (review_id, action_id)",
        "CREATE INDEX ON read_models.review_actions (owner_id)"]),
    ("feedback", "Customer and rep satisfaction feedback on deals (voided feedback excluded).", [
        ("deal_id", "text NOT NULL", "The deal."),
        ("seq", "integer NOT NULL", "Order within the deal."),
        ("occurred_at", "timestamptz NOT NULL", "When given."),
        ("month", "date NOT NULL", "UTC month."),
        ("score", "integer NOT NULL", "1 (poor) to 5 (excellent)."),
        ("comment", "text", "Free text."),
        ("source", "text", "customer or rep (the event's `from`)."),
        ("owner_id", "text", "Deal owner at that moment."),
        ("team_id", "text", "Team at that moment."),
    ], ["ALTER TABLE read_models.feedback ADD PRIMARY KEY (deal_id, seq)",
        "CREATE INDEX ON read_models.feedback (owner_id, month)", "CREATE INDEX ON read_models.feedback (team_id, month)"]),
    ("forecast_snapshot", "The forecast as taken at the start of each period (for forecast accuracy); written by `dealtrail watch`, not rebuilt from events.", [
        ("period", "text NOT NULL", "The period forecast."),
        ("scope", "text NOT NULL", "rep, team or company."),
        ("scope_id", "text NOT NULL", "Who."),
        ("taken_at", "timestamptz NOT NULL", "When the snapshot was taken."),
        ("weighted_pipeline", "numeric NOT NULL", "Open amount x configured stage probability."),
        ("historical_forecast", "numeric NOT NULL", "Open amount x P(won | stage) from the last 12 months."),
        ("won_to_date", "numeric NOT NULL", "Revenue already won in the period when taken."),
        ("as_of_position", "bigint NOT NULL", "The last event position the forecast reflected (traceability)."),
    ], ["ALTER TABLE read_models.forecast_snapshot ADD PRIMARY KEY (period, scope, scope_id)"]),
]

VIEWS = r"""
CREATE VIEW read_models.target_actuals AS
WITH perf AS (
  SELECT 'rep' AS scope, owner_id AS scope_id, month, revenue_won, deals_won, deals_lost, new_deals,
         contacts, cycle_days_sum FROM read_models.rep_performance_month
  UNION ALL
  SELECT 'team', team_id, month, revenue_won, deals_won, deals_lost, new_deals, contacts, cycle_days_sum
  FROM read_models.team_performance_month
  UNION ALL
  SELECT 'company', NULL, month, revenue_won, deals_won, deals_lost, new_deals, contacts, cycle_days_sum
  FROM read_models.rep_performance_month
)
SELECT t.target_id, t.metric,
       CASE t.metric
         WHEN 'revenue' THEN coalesce(sum(p.revenue_won), 0)
         WHEN 'deals_won' THEN coalesce(sum(p.deals_won), 0)
         WHEN 'new_deals' THEN coalesce(sum(p.new_deals), 0)
         WHEN 'contacts' THEN coalesce(sum(p.contacts), 0)
         WHEN 'win_rate' THEN sum(p.deals_won)::numeric / nullif(sum(p.deals_won) + sum(p.deals_lost), 0)
         WHEN 'avg_cycle_days' THEN (sum(p.cycle_days_sum) / nullif(sum(p.deals_won), 0))::numeric
       END AS actual
FROM read_models.targets t
LEFT JOIN perf p ON p.scope = t.scope AND (t.scope = 'company' OR p.scope_id = t.scope_id)
 AND p.month >= t.period_start AND p.month < t.period_end
GROUP BY t.target_id, t.metric;
COMMENT ON VIEW read_models.target_actuals IS 'Actual value of each target''s metric over its period, from the monthly rep/team performance rows (company: all reps).';

CREATE VIEW read_models.target_attainment AS
WITH base AS (
  SELECT t.*, a.actual,
         least(1.0, greatest(0.0, extract(epoch FROM now() - t.period_start::timestamptz)
               / extract(epoch FROM t.period_end::timestamptz - t.period_start::timestamptz)))::numeric AS elapsed_fraction,
         t.metric IN ('revenue', 'deals_won', 'new_deals', 'contacts') AS cumulative,
         t.metric = 'avg_cycle_days' AS lower_is_better
  FROM read_models.targets t JOIN read_models.target_actuals a USING (target_id)
), paced AS (
  SELECT b.*, CASE WHEN b.cumulative THEN b.value * b.elapsed_fraction ELSE b.value END AS pace FROM base b
)
SELECT target_id, scope, scope_id, period, metric, value AS target, actual,
       CASE WHEN lower_is_better THEN value / nullif(actual, 0) ELSE actual / nullif(value, 0) END AS attainment,
       elapsed_fraction, pace,
       CASE
         WHEN actual IS NULL THEN 'on_track'
         WHEN (NOT lower_is_better AND actual >= pace) OR (lower_is_better AND actual <= pace) THEN 'on_track'
         WHEN (NOT lower_is_better AND actual >= pace * 0.8) OR (lower_is_better AND actual <= pace * 1.2) THEN 'at_risk'
         ELSE 'behind'
       END AS status
FROM paced;
COMMENT ON VIEW read_models.target_attainment IS 'Per target: actual, target, attainment (actual/target; target/actual for avg_cycle_days), elapsed fraction of the period, pace (target x elapsed fraction for cumulative metrics, else the target), status on_track / at_risk (within 20% of pace) / behind. Evaluated at query time.';

CREATE VIEW read_models.overdue_actions AS
SELECT a.*, r.scope, r.scope_id, r.period FROM read_models.review_actions a
JOIN read_models.reviews r USING (review_id)
WHERE a.completed_at IS NULL AND a.due_date < current_date;
COMMENT ON VIEW read_models.overdue_actions IS 'Open action items past their due date.';
"""


def upgrade() -> None:
    for statement in _m2.table_ddl(tables=TABLES):
        op.execute(statement)
    op.execute(VIEWS)
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA read_models TO bi_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA read_models TO dealtrail_app")


def downgrade() -> None:
    op.execute("DROP VIEW read_models.overdue_actions, read_models.target_attainment, read_models.target_actuals")
    for name, *_ in reversed(TABLES):
        op.execute(f"DROP TABLE read_models.{name}")
