"""Reports as of a moment without aggregating the whole versioned history: the sums behind the
cohort funnel and the performance reports kept at recorded moments (`<sums>_at`, versioned by
`during`; `sums_moment` lists the moments), an index for the rep's team as of a moment on
deal_activity_past, deal_current_past by created_at, and the `_past` tables indexed by deal
(reports as of a moment probe a deal's versions). The worker takes the snapshots (projections.snapshots).

Frozen (issue 24): the statements below are what this revision sent when it was built from
projections.tables (SNAPSHOT_TABLES, sums_moment, indexes, grants);
a migration is history and no longer follows today's code.

Revision ID: 0020
Revises: 0019
"""
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UPGRADE = (
    (
        "\n"
        "CREATE TABLE read_models.rep_month_sums_at (\n"
        "\tmonth DATE NOT NULL, \n"
        "\towner_id TEXT NOT NULL, \n"
        "\tteam_id TEXT, \n"
        "\tactivities INTEGER NOT NULL, \n"
        "\trevenue_won NUMERIC NOT NULL, \n"
        "\tdeals_won INTEGER NOT NULL, \n"
        "\tdeals_lost INTEGER NOT NULL, \n"
        "\tcycle_days_sum NUMERIC NOT NULL, \n"
        "\tcontacts INTEGER NOT NULL, \n"
        "\tquotes INTEGER NOT NULL, \n"
        "\tnew_deals INTEGER NOT NULL, \n"
        "\tcsat_sum INTEGER NOT NULL, \n"
        "\tcsat_count INTEGER NOT NULL, \n"
        "\topen_delta INTEGER NOT NULL, \n"
        "\tduring TSTZRANGE NOT NULL\n"
        ")\n"
        "\n"
    ),
    "CREATE INDEX rep_month_sums_at_during_idx ON read_models.rep_month_sums_at USING gist (during)",
    (
        "CREATE INDEX rep_month_sums_at_open_idx ON read_models.rep_month_sums_at (month, owner_id) WHERE "
        "upper_inf(during)"
    ),
    (
        "COMMENT ON TABLE read_models.rep_month_sums_at IS 'rep_month_sums at the moments of sums_moment, "
        "versioned: the rows whose `during` holds a moment are rep_month_sums as of it (reports as_of a "
        "moment add the change of the versioned rows since).'"
    ),
    "COMMENT ON COLUMN read_models.rep_month_sums_at.month IS 'First day of the UTC month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums_at.owner_id IS 'The rep.'",
    (
        "COMMENT ON COLUMN read_models.rep_month_sums_at.team_id IS 'The rep''s team in their latest "
        "activity that month.'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_month_sums_at.activities IS 'deal_activity rows in the month "
        "(the performance row shows when > 0).'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_month_sums_at.revenue_won IS 'Sum of signed amounts of deals "
        "finally won in the month.'"
    ),
    "COMMENT ON COLUMN read_models.rep_month_sums_at.deals_won IS 'Deals finally won in the month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums_at.deals_lost IS 'Deals finally lost in the month.'",
    (
        "COMMENT ON COLUMN read_models.rep_month_sums_at.cycle_days_sum IS 'Sum of the cycle times of the "
        "deals won (each cycle_days as numeric, exact).'"
    ),
    "COMMENT ON COLUMN read_models.rep_month_sums_at.contacts IS 'Contacts logged in the month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums_at.quotes IS 'Quotes issued in the month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums_at.new_deals IS 'Deals created in the month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums_at.csat_sum IS 'Sum of feedback scores.'",
    "COMMENT ON COLUMN read_models.rep_month_sums_at.csat_count IS 'Number of feedback scores.'",
    (
        "COMMENT ON COLUMN read_models.rep_month_sums_at.open_delta IS 'Stage visits entered minus visits "
        "left in the month (their running sum is open_deals).'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_month_sums_at.during IS 'The snapshot moments (sums_moment) "
        "from which until which the key had these values.'"
    ),
    "GRANT SELECT ON read_models.rep_month_sums_at TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.rep_month_sums_at TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.team_month_sums_at (\n"
        "\tmonth DATE NOT NULL, \n"
        "\tteam_id TEXT NOT NULL, \n"
        "\tactivities INTEGER NOT NULL, \n"
        "\trevenue_won NUMERIC NOT NULL, \n"
        "\tdeals_won INTEGER NOT NULL, \n"
        "\tdeals_lost INTEGER NOT NULL, \n"
        "\tcycle_days_sum NUMERIC NOT NULL, \n"
        "\tcontacts INTEGER NOT NULL, \n"
        "\tquotes INTEGER NOT NULL, \n"
        "\tnew_deals INTEGER NOT NULL, \n"
        "\tcsat_sum INTEGER NOT NULL, \n"
        "\tcsat_count INTEGER NOT NULL, \n"
        "\topen_delta INTEGER NOT NULL, \n"
        "\tduring TSTZRANGE NOT NULL\n"
        ")\n"
        "\n"
    ),
    (
        "CREATE INDEX team_month_sums_at_open_idx ON read_models.team_month_sums_at (month, team_id) WHERE "
        "upper_inf(during)"
    ),
    "CREATE INDEX team_month_sums_at_during_idx ON read_models.team_month_sums_at USING gist (during)",
    (
        "COMMENT ON TABLE read_models.team_month_sums_at IS 'team_month_sums at the moments of "
        "sums_moment, versioned: the rows whose `during` holds a moment are team_month_sums as of it "
        "(reports as_of a moment add the change of the versioned rows since).'"
    ),
    "COMMENT ON COLUMN read_models.team_month_sums_at.month IS 'First day of the UTC month.'",
    "COMMENT ON COLUMN read_models.team_month_sums_at.team_id IS 'The team.'",
    (
        "COMMENT ON COLUMN read_models.team_month_sums_at.activities IS 'deal_activity rows in the month "
        "(the performance row shows when > 0).'"
    ),
    (
        "COMMENT ON COLUMN read_models.team_month_sums_at.revenue_won IS 'Sum of signed amounts of deals "
        "finally won in the month.'"
    ),
    "COMMENT ON COLUMN read_models.team_month_sums_at.deals_won IS 'Deals finally won in the month.'",
    "COMMENT ON COLUMN read_models.team_month_sums_at.deals_lost IS 'Deals finally lost in the month.'",
    (
        "COMMENT ON COLUMN read_models.team_month_sums_at.cycle_days_sum IS 'Sum of the cycle times of the "
        "deals won (each cycle_days as numeric, exact).'"
    ),
    "COMMENT ON COLUMN read_models.team_month_sums_at.contacts IS 'Contacts logged in the month.'",
    "COMMENT ON COLUMN read_models.team_month_sums_at.quotes IS 'Quotes issued in the month.'",
    "COMMENT ON COLUMN read_models.team_month_sums_at.new_deals IS 'Deals created in the month.'",
    "COMMENT ON COLUMN read_models.team_month_sums_at.csat_sum IS 'Sum of feedback scores.'",
    "COMMENT ON COLUMN read_models.team_month_sums_at.csat_count IS 'Number of feedback scores.'",
    (
        "COMMENT ON COLUMN read_models.team_month_sums_at.open_delta IS 'Stage visits entered minus visits "
        "left in the month (their running sum is open_deals).'"
    ),
    (
        "COMMENT ON COLUMN read_models.team_month_sums_at.during IS 'The snapshot moments (sums_moment) "
        "from which until which the key had these values.'"
    ),
    "GRANT SELECT ON read_models.team_month_sums_at TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.team_month_sums_at TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.funnel_cohort_month_at (\n"
        "\tpipeline TEXT NOT NULL, \n"
        "\tmonth DATE NOT NULL, \n"
        "\towner_id TEXT, \n"
        "\tteam_id TEXT, \n"
        "\tsegment TEXT, \n"
        "\tfurthest_stage_index INTEGER NOT NULL, \n"
        "\tstatus TEXT NOT NULL, \n"
        "\tdeals INTEGER NOT NULL, \n"
        "\tduring TSTZRANGE NOT NULL\n"
        ")\n"
        "\n"
    ),
    (
        "CREATE INDEX funnel_cohort_month_at_open_idx ON read_models.funnel_cohort_month_at (pipeline, "
        "month, owner_id, team_id, segment, furthest_stage_index, status) WHERE upper_inf(during)"
    ),
    "CREATE INDEX funnel_cohort_month_at_during_idx ON read_models.funnel_cohort_month_at USING gist (during)",
    (
        "COMMENT ON TABLE read_models.funnel_cohort_month_at IS 'funnel_cohort_month at the moments of "
        "sums_moment, versioned: the rows whose `during` holds a moment are funnel_cohort_month as of it "
        "(reports as_of a moment add the change of the versioned rows since).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month_at.pipeline IS 'Pipeline key.'",
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month_at.month IS 'First day of the UTC month the "
        "deals were created in (business time).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month_at.owner_id IS 'Current owner.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month_at.team_id IS 'Current team.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month_at.segment IS 'Customer segment.'",
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month_at.furthest_stage_index IS 'Furthest open stage "
        "reached (number of open stages = won).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month_at.status IS 'open, won or lost.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month_at.deals IS 'How many deals share all of the above.'",
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month_at.during IS 'The snapshot moments "
        "(sums_moment) from which until which the key had these values.'"
    ),
    "GRANT SELECT ON read_models.funnel_cohort_month_at TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.funnel_cohort_month_at TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.funnel_cohort_month_entered_at (\n"
        "\tpipeline TEXT NOT NULL, \n"
        "\tmonth DATE NOT NULL, \n"
        "\towner_id TEXT, \n"
        "\tteam_id TEXT, \n"
        "\tsegment TEXT, \n"
        "\tstage TEXT NOT NULL, \n"
        "\tdeals INTEGER NOT NULL, \n"
        "\tduring TSTZRANGE NOT NULL\n"
        ")\n"
        "\n"
    ),
    (
        "CREATE INDEX funnel_cohort_month_entered_at_during_idx ON "
        "read_models.funnel_cohort_month_entered_at USING gist (during)"
    ),
    (
        "CREATE INDEX funnel_cohort_month_entered_at_open_idx ON "
        "read_models.funnel_cohort_month_entered_at (pipeline, month, owner_id, team_id, segment, stage) "
        "WHERE upper_inf(during)"
    ),
    (
        "COMMENT ON TABLE read_models.funnel_cohort_month_entered_at IS 'funnel_cohort_month_entered at "
        "the moments of sums_moment, versioned: the rows whose `during` holds a moment are "
        "funnel_cohort_month_entered as of it (reports as_of a moment add the change of the versioned rows since).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered_at.pipeline IS 'Pipeline key.'",
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month_entered_at.month IS 'First day of the UTC month "
        "the deals were created in (business time).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered_at.owner_id IS 'Current owner.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered_at.team_id IS 'Current team.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered_at.segment IS 'Customer segment.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered_at.stage IS 'Open stage.'",
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month_entered_at.deals IS 'How many of those deals "
        "actually entered the stage.'"
    ),
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month_entered_at.during IS 'The snapshot moments "
        "(sums_moment) from which until which the key had these values.'"
    ),
    "GRANT SELECT ON read_models.funnel_cohort_month_entered_at TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.funnel_cohort_month_entered_at TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.sums_moment (\n"
        "\tmoment TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\tposition BIGINT NOT NULL, \n"
        "\tPRIMARY KEY (moment)\n"
        ")\n"
        "\n"
    ),
    (
        "COMMENT ON TABLE read_models.sums_moment IS 'Moments the projection snapshotted the sums at "
        "(every DEALTRAIL_SNAPSHOT_EVERY log positions); a rebuild starts without any and the worker takes "
        "them again.'"
    ),
    "COMMENT ON COLUMN read_models.sums_moment.moment IS 'A recorded moment the *_at sums were taken at.'",
    "COMMENT ON COLUMN read_models.sums_moment.position IS 'The log position of the grid it stands for.'",
    "GRANT SELECT ON read_models.sums_moment TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.sums_moment TO dealtrail_app",
    (
        "CREATE INDEX IF NOT EXISTS deal_activity_past_owner_id_month_occurred_at_idx ON "
        "read_models.deal_activity_past (owner_id, month, occurred_at, deal_id, seq)"
    ),
    "CREATE INDEX IF NOT EXISTS deal_current_past_created_at_idx ON read_models.deal_current_past (created_at)",
    "CREATE INDEX IF NOT EXISTS deal_current_past_deal_id_idx ON read_models.deal_current_past (deal_id)",
    (
        "CREATE INDEX IF NOT EXISTS deal_stage_history_past_deal_id_idx ON "
        "read_models.deal_stage_history_past (deal_id)"
    ),
    (
        "CREATE INDEX IF NOT EXISTS deal_amount_history_past_deal_id_idx ON "
        "read_models.deal_amount_history_past (deal_id)"
    ),
    "CREATE INDEX IF NOT EXISTS deal_activity_past_deal_id_idx ON read_models.deal_activity_past (deal_id)",
    "CREATE INDEX IF NOT EXISTS cycle_time_deal_past_deal_id_idx ON read_models.cycle_time_deal_past (deal_id)",
)

DOWNGRADE = (
    "DROP INDEX IF EXISTS read_models.deal_current_past_deal_id_idx",
    "DROP INDEX IF EXISTS read_models.deal_stage_history_past_deal_id_idx",
    "DROP INDEX IF EXISTS read_models.deal_amount_history_past_deal_id_idx",
    "DROP INDEX IF EXISTS read_models.deal_activity_past_deal_id_idx",
    "DROP INDEX IF EXISTS read_models.cycle_time_deal_past_deal_id_idx",
    "DROP INDEX IF EXISTS read_models.deal_current_past_created_at_idx",
    "DROP INDEX IF EXISTS read_models.deal_activity_past_owner_id_month_occurred_at_idx",
    "DROP TABLE read_models.sums_moment",
    "DROP TABLE read_models.rep_month_sums_at",
    "DROP TABLE read_models.team_month_sums_at",
    "DROP TABLE read_models.funnel_cohort_month_at",
    "DROP TABLE read_models.funnel_cohort_month_entered_at",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
