"""The views BI reads: aggregates over the sums, the performance and target views."""
from dataclasses import dataclass

from projections.tables.base import SCHEMA


@dataclass(frozen=True)
class View:
    name: str
    select: str  # the view's query, in read_models
    comment: str
    columns: dict[str, str]  # column comments

    def statements(self, schema: str = SCHEMA) -> list[str]:
        """Create it in `schema`, reading that schema's tables (a rebuild or replay schema)."""
        select = self.select.replace(f"{SCHEMA}.", f"{schema}.")
        return [f"CREATE OR REPLACE VIEW {schema}.{self.name} AS {select}", *self.comments(schema)]

    def comments(self, schema: str = SCHEMA, columns: set[str] | None = None) -> list[str]:
        """COMMENT ON the view and its columns (only `columns`, if given)."""
        def quote(s: str) -> str:
            return "'" + s.replace("'", "''") + "'"

        return [f"COMMENT ON VIEW {schema}.{self.name} IS {quote(self.comment)}",
                *(f"COMMENT ON COLUMN {schema}.{self.name}.{c} IS {quote(doc)}"
                  for c, doc in self.columns.items() if columns is None or c in columns)]


_PERFORMANCE_COLUMNS = {
    'revenue_won': 'Sum of signed amounts of deals finally won in the month.',
    'deals_won': 'Deals finally won in the month.', 'deals_lost': 'Deals finally lost in the month.',
    'win_rate': 'won / (won + lost).', 'avg_deal_size': 'revenue_won / deals_won.',
    'avg_cycle_days': 'Mean cycle time of the deals won in the month.',
    'cycle_days_sum': 'Sum of those cycle times (for averaging over periods).',
    'contacts': 'Contacts logged in the month.', 'quotes': 'Quotes issued in the month.',
    'new_deals': 'Deals created in the month.', 'csat_avg': 'Mean feedback score in the month.',
    'csat_sum': 'Sum of feedback scores.', 'csat_count': 'Number of feedback scores.',
    'open_deals': 'Deals open at the end of the month (owner when their stage was entered).',
    'sales_velocity': 'open_deals * win_rate * avg_deal_size / avg_cycle_days, per day.',
}

# The ratios from the sums exactly as a GROUP BY over deal_activity gave them; open_deals is the
# running sum of open_delta over all the key's months (months without activity included), and a
# row shows only for months with activity.
_PERFORMANCE = r"""
SELECT month, {who}, {team}revenue_won, deals_won, deals_lost, win_rate, avg_deal_size, avg_cycle_days,
       cycle_days_sum::float8 AS cycle_days_sum, contacts, quotes, new_deals, csat_avg, csat_sum, csat_count,
       open_deals,
       CASE WHEN win_rate IS NOT NULL AND avg_cycle_days > 0
            THEN open_deals * win_rate * avg_deal_size / avg_cycle_days END AS sales_velocity
FROM (SELECT s.*, deals_won::float8 / nullif(deals_won + deals_lost, 0) AS win_rate,
             round(revenue_won / nullif(deals_won, 0), 2) AS avg_deal_size,
             (cycle_days_sum / nullif(deals_won, 0))::float8 AS avg_cycle_days,
             (csat_sum::numeric / nullif(csat_count, 0))::float8 AS csat_avg,
             (sum(open_delta) OVER (PARTITION BY {who} ORDER BY month))::integer AS open_deals
      FROM read_models.{table} s) p
WHERE activities > 0"""

# Aggregates BI reads, computed from the *_sums tables the projection keeps (in dependency order).
AGGREGATE_VIEWS = (
    View('funnel_daily', r"""
SELECT day, pipeline, stage, owner_id, team_id, entered, advanced, regressed, lost,
       (sum(open_delta) OVER w)::integer AS open_end_of_day, sum(amount_delta) OVER w AS open_amount_end_of_day
FROM read_models.funnel_day_sums
WINDOW w AS (PARTITION BY pipeline, stage, owner_id, team_id ORDER BY day)""",
         'Funnel trend per day, stage and owner/team. A key has a row on each day its funnel changed; open_* are '
         'end-of-day values, so carry the last row forward on days without one.',
         {'day': 'UTC day (business time).', 'pipeline': 'Pipeline key.', 'stage': 'Open stage.',
          'owner_id': 'Owner when the stage was entered.', 'team_id': 'Team when the stage was entered.',
          'entered': 'Deals that entered the stage that day.', 'advanced': 'Deals that left it forward (or won).',
          'regressed': 'Deals that left it backward.', 'lost': 'Deals lost from it.',
          'open_end_of_day': 'Deals in the stage at the end of the day.',
          'open_amount_end_of_day': 'Their summed current amount.'}),
    View('rep_performance_month', _PERFORMANCE.format(who="owner_id", team="team_id, ", table="rep_month_sums"),
         'Per rep and month. Wins, losses and revenue count for the owner at closing; contacts, quotes and feedback '
         'for the owner when they happened; new deals for the owner at creation.',
         {'month': 'First day of the UTC month.', 'owner_id': 'The rep.',
          'team_id': "The rep's team in their latest activity that month.", **_PERFORMANCE_COLUMNS}),
    View('team_performance_month', _PERFORMANCE.format(who="team_id", team="", table="team_month_sums"),
         'Per team and month; same attribution rules as rep_performance_month.',
         {'month': 'First day of the UTC month.', 'team_id': 'The team.', **_PERFORMANCE_COLUMNS}),
)

# In dependency order (target_actuals reads the performance views, target_attainment target_actuals).
VIEWS = (
    *AGGREGATE_VIEWS,
    View('stalled_deals', r"""
SELECT d.deal_id, d.title, d.owner_id, d.team_id, d.pipeline, d.stage, d.stage_entered_at,
       d.last_activity_at, s.stall_after_days,
       extract(epoch FROM now() - d.last_activity_at) / 86400.0 AS days_since_activity,
       d.last_activity_at + make_interval(days => s.stall_after_days) AS stalled_since,
       d.current_amount
FROM read_models.deal_current d
JOIN read_models.pipeline_stage s ON s.pipeline = d.pipeline AND s.stage = d.stage
WHERE d.status = 'open' AND s.stall_after_days IS NOT NULL
  AND d.last_activity_at + make_interval(days => s.stall_after_days) < now()""",
         "Open deals with no stage move, contact or quote for longer than their stage's stall_after_days "
         "(evaluated at query time).",
         {'deal_id': 'The deal.', 'title': 'Deal title.', 'owner_id': 'Current owner.', 'team_id': 'Current team.',
          'pipeline': 'Pipeline key.', 'stage': 'Current open stage.',
          'stage_entered_at': 'When the current stage was entered.',
          'last_activity_at': 'Latest stage entry, contact or quote (business time): the stall clock.',
          'stall_after_days': "The stage's stall threshold in days.",
          'days_since_activity': 'Days from last_activity_at to now.',
          'stalled_since': 'When the deal became stalled (last_activity_at + stall_after_days).',
          'current_amount': 'Latest quote amount, else expected amount.'}),
    View('target_actuals', r"""
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
GROUP BY t.target_id, t.metric""",
         "Actual value of each target's metric over its period, from the monthly rep/team performance rows "
         "(company: all reps).",
         {'target_id': 'The target.', 'metric': 'Its metric.',
          'actual': "Actual value over the target's period so far (null when undefined, e.g. a win rate without "
                    "closed deals)."}),
    View('target_attainment', """
WITH base AS (
  SELECT t.*, a.actual, read_models.elapsed_fraction(t.period_start, t.period_end, now()) AS elapsed_fraction,
         coalesce((SELECT s.value::numeric FROM read_models.loop_settings s
                   WHERE s.name = 'deviation_threshold'), 0.2) AS threshold
  FROM read_models.targets t JOIN read_models.target_actuals a USING (target_id)
), paced AS (
  SELECT b.*, read_models.target_pace(b.metric, b.value, b.elapsed_fraction) AS pace FROM base b
)
SELECT target_id, scope, scope_id, period, metric, value AS target, actual,
       CASE WHEN metric = 'avg_cycle_days' THEN value / nullif(actual, 0) \
ELSE actual / nullif(value, 0) END AS attainment,
       elapsed_fraction, pace, read_models.target_status(metric, actual, pace, threshold) AS status,
       read_models.target_deviates(metric, actual, pace, threshold, elapsed_fraction) AS deviation
FROM paced""",
         "Per target: actual, target, attainment (actual/target; target/actual for avg_cycle_days), elapsed fraction "
         "of the period, pace (target x elapsed fraction for cumulative metrics, else the target), status on_track / "
         "at_risk (within the deviation threshold of pace) / behind, and whether it deviates (behind after a quarter "
         "of the period: the watcher opens a review). Evaluated at query time with the functions target_pace, "
         "target_status, target_deviates — the one definition the API and the watcher use too.",
         {'target_id': 'The target.', 'scope': 'rep, team or company.', 'scope_id': 'Who it concerns.',
          'period': '2026-11, 2026-Q4 or 2026.', 'metric': 'The metric.', 'target': 'The target value in force.',
          'actual': 'Actual value so far.', 'attainment': 'actual / target (target / actual for avg_cycle_days).',
          'elapsed_fraction': 'Share of the period elapsed (0 to 1).',
          'pace': 'Where the metric should be by now: target x elapsed_fraction for cumulative metrics, '
                  'else the target.',
          'status': 'on_track, at_risk (within the deviation threshold of pace) or behind.',
          'deviation': 'Behind after at least a quarter of the period: a deviation review is due.'}),
    View('overdue_actions', r"""
SELECT a.*, r.scope, r.scope_id, r.period FROM read_models.review_actions a
JOIN read_models.reviews r USING (review_id)
WHERE a.completed_at IS NULL AND a.due_date < current_date""",
         'Open action items past their due date.',
         {'review_id': 'The review.', 'action_id': 'Action id (unique within the review).',
          'title': 'What is to be done.', 'owner_id': 'Who does it.', 'due_date': 'By when.',
          'added_at': 'When agreed.', 'completed_at': 'Always null here (open items).', 'outcome': 'Always null here.',
          'scope': "The review's scope.", 'scope_id': 'Who the review concerns.', 'period': "The review's period."}),
)
