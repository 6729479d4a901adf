"""Views' columns are commented too (texts from projections.tables; columns a later revision
adds are commented by that revision).

Frozen (issue 24): VIEWS below holds the texts this revision took from projections.tables.VIEWS
when it was built; a migration is history and no longer follows today's code. As before, only the
views present at this revision, and of them only the columns present, are commented (a view a
later revision creates, or one a downgrade below 0012 dropped, is skipped).

Revision ID: 0009
Revises: 0008
"""
from alembic import op
from sqlalchemy import text

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# (view, its comment, ((column, its comment), ...))
VIEWS = (
    ("funnel_daily", ("Funnel trend per day, stage and owner/team. A key has a row on each day its "
                      "funnel changed; open_* are end-of-day values, so carry the last row forward on "
                      "days without one."), (
        ("day", "UTC day (business time)."),
        ("pipeline", "Pipeline key."),
        ("stage", "Open stage."),
        ("owner_id", "Owner when the stage was entered."),
        ("team_id", "Team when the stage was entered."),
        ("entered", "Deals that entered the stage that day."),
        ("advanced", "Deals that left it forward (or won)."),
        ("regressed", "Deals that left it backward."),
        ("lost", "Deals lost from it."),
        ("open_end_of_day", "Deals in the stage at the end of the day."),
        ("open_amount_end_of_day", "Their summed current amount."),
    )),
    ("rep_performance_month", ("Per rep and month. Wins, losses and revenue count for the owner at "
                               "closing; contacts, quotes and feedback for the owner when they "
                               "happened; new deals for the owner at creation."), (
        ("month", "First day of the UTC month."),
        ("owner_id", "The rep."),
        ("team_id", "The rep's team in their latest activity that month."),
        ("revenue_won", "Sum of signed amounts of deals finally won in the month."),
        ("deals_won", "Deals finally won in the month."),
        ("deals_lost", "Deals finally lost in the month."),
        ("win_rate", "won / (won + lost)."),
        ("avg_deal_size", "revenue_won / deals_won."),
        ("avg_cycle_days", "Mean cycle time of the deals won in the month."),
        ("cycle_days_sum", "Sum of those cycle times (for averaging over periods)."),
        ("contacts", "Contacts logged in the month."),
        ("quotes", "Quotes issued in the month."),
        ("new_deals", "Deals created in the month."),
        ("csat_avg", "Mean feedback score in the month."),
        ("csat_sum", "Sum of feedback scores."),
        ("csat_count", "Number of feedback scores."),
        ("open_deals", "Deals open at the end of the month (owner when their stage was entered)."),
        ("sales_velocity", "open_deals * win_rate * avg_deal_size / avg_cycle_days, per day."),
    )),
    ("team_performance_month", "Per team and month; same attribution rules as rep_performance_month.", (
        ("month", "First day of the UTC month."),
        ("team_id", "The team."),
        ("revenue_won", "Sum of signed amounts of deals finally won in the month."),
        ("deals_won", "Deals finally won in the month."),
        ("deals_lost", "Deals finally lost in the month."),
        ("win_rate", "won / (won + lost)."),
        ("avg_deal_size", "revenue_won / deals_won."),
        ("avg_cycle_days", "Mean cycle time of the deals won in the month."),
        ("cycle_days_sum", "Sum of those cycle times (for averaging over periods)."),
        ("contacts", "Contacts logged in the month."),
        ("quotes", "Quotes issued in the month."),
        ("new_deals", "Deals created in the month."),
        ("csat_avg", "Mean feedback score in the month."),
        ("csat_sum", "Sum of feedback scores."),
        ("csat_count", "Number of feedback scores."),
        ("open_deals", "Deals open at the end of the month (owner when their stage was entered)."),
        ("sales_velocity", "open_deals * win_rate * avg_deal_size / avg_cycle_days, per day."),
    )),
    ("stalled_deals", ("Open deals with no stage move, contact or quote for longer than their stage's "
                       "stall_after_days (evaluated at query time)."), (
        ("deal_id", "The deal."),
        ("title", "Deal title."),
        ("owner_id", "Current owner."),
        ("team_id", "Current team."),
        ("pipeline", "Pipeline key."),
        ("stage", "Current open stage."),
        ("stage_entered_at", "When the current stage was entered."),
        ("last_activity_at", "Latest stage entry, contact or quote (business time): the stall clock."),
        ("stall_after_days", "The stage's stall threshold in days."),
        ("days_since_activity", "Days from last_activity_at to now."),
        ("stalled_since", "When the deal became stalled (last_activity_at + stall_after_days)."),
        ("current_amount", "Latest quote amount, else expected amount."),
    )),
    ("target_actuals", ("Actual value of each target's metric over its period, from the monthly "
                        "rep/team performance rows (company: all reps)."), (
        ("target_id", "The target."),
        ("metric", "Its metric."),
        ("actual", ("Actual value over the target's period so far (null when undefined, e.g. a win rate "
                    "without closed deals).")),
    )),
    ("target_attainment", ("Per target: actual, target, attainment (actual/target; target/actual for "
                           "avg_cycle_days), elapsed fraction of the period, pace (target x elapsed "
                           "fraction for cumulative metrics, else the target), status on_track / "
                           "at_risk (within the deviation threshold of pace) / behind, and whether it "
                           "deviates (behind after a quarter of the period: the watcher opens a "
                           "review). Evaluated at query time with the functions target_pace, "
                           "target_status, target_deviates — the one definition the API and the watcher use too."), (
        ("target_id", "The target."),
        ("scope", "rep, team or company."),
        ("scope_id", "Who it concerns."),
        ("period", "2026-11, 2026-Q4 or 2026."),
        ("metric", "The metric."),
        ("target", "The target value in force."),
        ("actual", "Actual value so far."),
        ("attainment", "actual / target (target / actual for avg_cycle_days)."),
        ("elapsed_fraction", "Share of the period elapsed (0 to 1)."),
        ("pace", ("Where the metric should be by now: target x elapsed_fraction for cumulative metrics, "
                  "else the target.")),
        ("status", "on_track, at_risk (within the deviation threshold of pace) or behind."),
        ("deviation", "Behind after at least a quarter of the period: a deviation review is due."),
    )),
    ("overdue_actions", "Open action items past their due date.", (
        ("review_id", "The review."),
        ("action_id", "Action id (unique within the review)."),
        ("title", "What is to be done."),
        ("owner_id", "Who does it."),
        ("due_date", "By when."),
        ("added_at", "When agreed."),
        ("completed_at", "Always null here (open items)."),
        ("outcome", "Always null here."),
        ("scope", "The review's scope."),
        ("scope_id", "Who the review concerns."),
        ("period", "The review's period."),
    )),
)


_PRESENT = text(
    "SELECT c.column_name FROM information_schema.columns c JOIN information_schema.views v "
    "USING (table_schema, table_name) WHERE c.table_schema = 'read_models' AND c.table_name = :v")


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def upgrade() -> None:
    conn = op.get_bind()
    for name, comment, columns in VIEWS:
        present = set(conn.execute(_PRESENT, {"v": name}).scalars())
        if not present:
            continue  # a view a later revision creates (0015 turns tables into views)
        op.execute(f"COMMENT ON VIEW read_models.{name} IS {_quote(comment)}")
        for column, doc in columns:
            if column in present:
                op.execute(f"COMMENT ON COLUMN read_models.{name}.{column} IS {_quote(doc)}")


def downgrade() -> None:
    pass  # comments only
