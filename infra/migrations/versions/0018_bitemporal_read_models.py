"""Bitemporal read models: deal_current, deal_stage_history, deal_amount_history, deal_activity
and cycle_time_deal rows carry recorded_from, and each has a `_past` twin keeping every earlier
version with its recorded range, so a report `as_of` a moment is a query (no replay schema per
moment). The cached `asof_*` replay schemas go. An installation that already holds rows kept no
versions: versions_since says from when they are complete (reports as_of an earlier moment are
refused until `dealtrail rebuild` derives every version from the log). events.event gets an
index on recorded_at (the moment -> position lookup of as_of).

Frozen (issue 24): the statements below are what this revision sent when it was built from
projections.tables (recorded_from columns, the _past tables, versions_since);
a migration is history and no longer follows today's code.

Revision ID: 0018
Revises: 0017
"""
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

UPGRADE = (
    "ALTER TABLE read_models.deal_current ADD COLUMN recorded_from timestamptz NOT NULL DEFAULT now()",
    (
        "COMMENT ON COLUMN read_models.deal_current.recorded_from IS 'Since when (recorded time: the clock "
        "`as_of` asks about) this row has been as it is; its earlier versions are in the table''s _past "
        "twin (complete from versions_since).'"
    ),
    "ALTER TABLE read_models.deal_stage_history ADD COLUMN recorded_from timestamptz NOT NULL DEFAULT now()",
    (
        "COMMENT ON COLUMN read_models.deal_stage_history.recorded_from IS 'Since when (recorded time: the "
        "clock `as_of` asks about) this row has been as it is; its earlier versions are in the table''s "
        "_past twin (complete from versions_since).'"
    ),
    "ALTER TABLE read_models.deal_amount_history ADD COLUMN recorded_from timestamptz NOT NULL DEFAULT now()",
    (
        "COMMENT ON COLUMN read_models.deal_amount_history.recorded_from IS 'Since when (recorded time: "
        "the clock `as_of` asks about) this row has been as it is; its earlier versions are in the "
        "table''s _past twin (complete from versions_since).'"
    ),
    "ALTER TABLE read_models.deal_activity ADD COLUMN recorded_from timestamptz NOT NULL DEFAULT now()",
    (
        "COMMENT ON COLUMN read_models.deal_activity.recorded_from IS 'Since when (recorded time: the "
        "clock `as_of` asks about) this row has been as it is; its earlier versions are in the table''s "
        "_past twin (complete from versions_since).'"
    ),
    "ALTER TABLE read_models.cycle_time_deal ADD COLUMN recorded_from timestamptz NOT NULL DEFAULT now()",
    (
        "COMMENT ON COLUMN read_models.cycle_time_deal.recorded_from IS 'Since when (recorded time: the "
        "clock `as_of` asks about) this row has been as it is; its earlier versions are in the table''s "
        "_past twin (complete from versions_since).'"
    ),
    (
        "\n"
        "CREATE TABLE read_models.deal_current_past (\n"
        "\tdeal_id TEXT NOT NULL, \n"
        "\tsegment TEXT, \n"
        "\towner_id TEXT, \n"
        "\tteam_id TEXT, \n"
        "\tpipeline TEXT, \n"
        "\tstage TEXT, \n"
        "\tstatus TEXT, \n"
        "\tcreated_at TIMESTAMP WITH TIME ZONE, \n"
        "\tcurrent_amount NUMERIC, \n"
        "\tclosed_at TIMESTAMP WITH TIME ZONE, \n"
        "\tfurthest_stage_index INTEGER, \n"
        "\tentered_stages TEXT[], \n"
        "\texpected_close_date DATE, \n"
        "\trecorded_from TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\trecorded_to TIMESTAMP WITH TIME ZONE NOT NULL\n"
        ")\n"
        "\n"
    ),
    "CREATE INDEX deal_current_past_recorded_to_idx ON read_models.deal_current_past (recorded_to, recorded_from)",
    "CREATE INDEX deal_current_past_deal_id_idx ON read_models.deal_current_past (deal_id)",
    "CREATE INDEX deal_current_past_created_at_idx ON read_models.deal_current_past (created_at)",
    (
        "COMMENT ON TABLE read_models.deal_current_past IS 'Earlier versions of deal_current rows over "
        "recorded time (bitemporal: what the read models held at any past moment is deal_current rows with "
        "recorded_from <= T plus these with recorded_from <= T < recorded_to).'"
    ),
    "COMMENT ON COLUMN read_models.deal_current_past.deal_id IS 'The deal (stream) id.'",
    "COMMENT ON COLUMN read_models.deal_current_past.segment IS 'Customer segment.'",
    "COMMENT ON COLUMN read_models.deal_current_past.owner_id IS 'Current owner (rep).'",
    "COMMENT ON COLUMN read_models.deal_current_past.team_id IS 'Current owner''s team.'",
    "COMMENT ON COLUMN read_models.deal_current_past.pipeline IS 'Pipeline key.'",
    "COMMENT ON COLUMN read_models.deal_current_past.stage IS 'Current stage (an open stage, or won/lost).'",
    "COMMENT ON COLUMN read_models.deal_current_past.status IS 'open, won or lost.'",
    "COMMENT ON COLUMN read_models.deal_current_past.created_at IS 'occurred_at of deal.created.'",
    (
        "COMMENT ON COLUMN read_models.deal_current_past.current_amount IS 'Latest quote amount, else "
        "expected amount.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_current_past.closed_at IS 'When the deal was (finally) won or "
        "lost; null when open.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_current_past.furthest_stage_index IS '0-based index of the "
        "furthest open stage reached; won = number of open stages.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_current_past.entered_stages IS 'Open stages actually entered "
        "at least once.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_current_past.expected_close_date IS 'Expected close date "
        "(deal.created, then the latest deal.updated); the forecast places open deals in periods by it.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_current_past.recorded_from IS 'Recorded time from which this "
        "version was the row.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_current_past.recorded_to IS 'Recorded time from which it no "
        "longer was (the next version, or the row went).'"
    ),
    "GRANT SELECT ON read_models.deal_current_past TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.deal_current_past TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.deal_stage_history_past (\n"
        "\tdeal_id TEXT NOT NULL, \n"
        "\tstage TEXT NOT NULL, \n"
        "\tvisit INTEGER NOT NULL, \n"
        "\tpipeline TEXT NOT NULL, \n"
        "\tentered_at TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\texited_at TIMESTAMP WITH TIME ZONE, \n"
        "\tdwell_seconds FLOAT, \n"
        "\texit_to TEXT, \n"
        "\tentered_by TEXT NOT NULL, \n"
        "\towner_id TEXT, \n"
        "\tteam_id TEXT, \n"
        "\trecorded_from TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\trecorded_to TIMESTAMP WITH TIME ZONE NOT NULL\n"
        ")\n"
        "\n"
    ),
    "CREATE INDEX deal_stage_history_past_deal_id_idx ON read_models.deal_stage_history_past (deal_id)",
    (
        "CREATE INDEX deal_stage_history_past_recorded_to_idx ON read_models.deal_stage_history_past "
        "(recorded_to, recorded_from)"
    ),
    (
        "COMMENT ON TABLE read_models.deal_stage_history_past IS 'Earlier versions of deal_stage_history "
        "rows over recorded time (bitemporal: what the read models held at any past moment is "
        "deal_stage_history rows with recorded_from <= T plus these with recorded_from <= T < recorded_to).'"
    ),
    "COMMENT ON COLUMN read_models.deal_stage_history_past.deal_id IS 'The deal.'",
    "COMMENT ON COLUMN read_models.deal_stage_history_past.stage IS 'The open stage visited.'",
    "COMMENT ON COLUMN read_models.deal_stage_history_past.visit IS '1, 2, ... when the deal re-enters the stage.'",
    "COMMENT ON COLUMN read_models.deal_stage_history_past.pipeline IS 'Pipeline key.'",
    "COMMENT ON COLUMN read_models.deal_stage_history_past.entered_at IS 'When the stage was entered.'",
    (
        "COMMENT ON COLUMN read_models.deal_stage_history_past.exited_at IS 'When it was left; null while "
        "the deal is still there.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_stage_history_past.dwell_seconds IS 'exited_at - entered_at in "
        "seconds; null while open.'"
    ),
    "COMMENT ON COLUMN read_models.deal_stage_history_past.exit_to IS 'Next stage, or won/lost.'",
    (
        "COMMENT ON COLUMN read_models.deal_stage_history_past.entered_by IS 'create, move (next stage), "
        "skip (forward past stages), regression (backward), reopen.'"
    ),
    "COMMENT ON COLUMN read_models.deal_stage_history_past.owner_id IS 'Owner when the stage was entered.'",
    "COMMENT ON COLUMN read_models.deal_stage_history_past.team_id IS 'Team when the stage was entered.'",
    (
        "COMMENT ON COLUMN read_models.deal_stage_history_past.recorded_from IS 'Recorded time from which "
        "this version was the row.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_stage_history_past.recorded_to IS 'Recorded time from which it "
        "no longer was (the next version, or the row went).'"
    ),
    "GRANT SELECT ON read_models.deal_stage_history_past TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.deal_stage_history_past TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.deal_amount_history_past (\n"
        "\tdeal_id TEXT NOT NULL, \n"
        "\tvalid_from TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\tseq INTEGER NOT NULL, \n"
        "\tamount NUMERIC, \n"
        "\trecorded_from TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\trecorded_to TIMESTAMP WITH TIME ZONE NOT NULL\n"
        ")\n"
        "\n"
    ),
    (
        "CREATE INDEX deal_amount_history_past_recorded_to_idx ON read_models.deal_amount_history_past "
        "(recorded_to, recorded_from)"
    ),
    "CREATE INDEX deal_amount_history_past_deal_id_idx ON read_models.deal_amount_history_past (deal_id)",
    (
        "COMMENT ON TABLE read_models.deal_amount_history_past IS 'Earlier versions of deal_amount_history "
        "rows over recorded time (bitemporal: what the read models held at any past moment is "
        "deal_amount_history rows with recorded_from <= T plus these with recorded_from <= T < recorded_to).'"
    ),
    "COMMENT ON COLUMN read_models.deal_amount_history_past.deal_id IS 'The deal.'",
    "COMMENT ON COLUMN read_models.deal_amount_history_past.valid_from IS 'From when this amount applies.'",
    "COMMENT ON COLUMN read_models.deal_amount_history_past.seq IS 'Order within the deal.'",
    "COMMENT ON COLUMN read_models.deal_amount_history_past.amount IS 'The amount.'",
    (
        "COMMENT ON COLUMN read_models.deal_amount_history_past.recorded_from IS 'Recorded time from which "
        "this version was the row.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_amount_history_past.recorded_to IS 'Recorded time from which "
        "it no longer was (the next version, or the row went).'"
    ),
    "GRANT SELECT ON read_models.deal_amount_history_past TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.deal_amount_history_past TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.deal_activity_past (\n"
        "\tdeal_id TEXT NOT NULL, \n"
        "\tseq INTEGER NOT NULL, \n"
        "\tkind TEXT NOT NULL, \n"
        "\toccurred_at TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\tmonth DATE NOT NULL, \n"
        "\towner_id TEXT, \n"
        "\tteam_id TEXT, \n"
        "\tamount NUMERIC, \n"
        "\tcycle_days FLOAT, \n"
        "\tscore INTEGER, \n"
        "\trecorded_from TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\trecorded_to TIMESTAMP WITH TIME ZONE NOT NULL\n"
        ")\n"
        "\n"
    ),
    (
        "CREATE INDEX deal_activity_past_owner_id_month_occurred_at_idx ON read_models.deal_activity_past "
        "(owner_id, month, occurred_at, deal_id, seq)"
    ),
    "CREATE INDEX deal_activity_past_deal_id_idx ON read_models.deal_activity_past (deal_id)",
    (
        "CREATE INDEX deal_activity_past_recorded_to_idx ON read_models.deal_activity_past (recorded_to, "
        "recorded_from)"
    ),
    (
        "COMMENT ON TABLE read_models.deal_activity_past IS 'Earlier versions of deal_activity rows over "
        "recorded time (bitemporal: what the read models held at any past moment is deal_activity rows "
        "with recorded_from <= T plus these with recorded_from <= T < recorded_to).'"
    ),
    "COMMENT ON COLUMN read_models.deal_activity_past.deal_id IS 'The deal.'",
    (
        "COMMENT ON COLUMN read_models.deal_activity_past.seq IS 'The stream_version of the event behind "
        "the row; 0 for the deal''s final close (won/lost).'"
    ),
    "COMMENT ON COLUMN read_models.deal_activity_past.kind IS 'created, contact, quote, feedback, won, lost.'",
    "COMMENT ON COLUMN read_models.deal_activity_past.occurred_at IS 'Business time.'",
    "COMMENT ON COLUMN read_models.deal_activity_past.month IS 'First day of the UTC month of occurred_at.'",
    "COMMENT ON COLUMN read_models.deal_activity_past.owner_id IS 'Owner at that moment.'",
    "COMMENT ON COLUMN read_models.deal_activity_past.team_id IS 'Team at that moment.'",
    "COMMENT ON COLUMN read_models.deal_activity_past.amount IS 'Quote amount or signed amount.'",
    "COMMENT ON COLUMN read_models.deal_activity_past.cycle_days IS 'Cycle time for won/lost.'",
    "COMMENT ON COLUMN read_models.deal_activity_past.score IS 'Satisfaction score for feedback.'",
    (
        "COMMENT ON COLUMN read_models.deal_activity_past.recorded_from IS 'Recorded time from which this "
        "version was the row.'"
    ),
    (
        "COMMENT ON COLUMN read_models.deal_activity_past.recorded_to IS 'Recorded time from which it no "
        "longer was (the next version, or the row went).'"
    ),
    "GRANT SELECT ON read_models.deal_activity_past TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.deal_activity_past TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.cycle_time_deal_past (\n"
        "\tdeal_id TEXT NOT NULL, \n"
        "\toutcome TEXT NOT NULL, \n"
        "\towner_id TEXT, \n"
        "\tteam_id TEXT, \n"
        "\tsegment TEXT, \n"
        "\tpipeline TEXT, \n"
        "\tcreated_at TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\tclosed_at TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\tcycle_days FLOAT NOT NULL, \n"
        "\trecorded_from TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "\trecorded_to TIMESTAMP WITH TIME ZONE NOT NULL\n"
        ")\n"
        "\n"
    ),
    (
        "CREATE INDEX cycle_time_deal_past_recorded_to_idx ON read_models.cycle_time_deal_past "
        "(recorded_to, recorded_from)"
    ),
    "CREATE INDEX cycle_time_deal_past_deal_id_idx ON read_models.cycle_time_deal_past (deal_id)",
    (
        "COMMENT ON TABLE read_models.cycle_time_deal_past IS 'Earlier versions of cycle_time_deal rows "
        "over recorded time (bitemporal: what the read models held at any past moment is cycle_time_deal "
        "rows with recorded_from <= T plus these with recorded_from <= T < recorded_to).'"
    ),
    "COMMENT ON COLUMN read_models.cycle_time_deal_past.deal_id IS 'The deal.'",
    "COMMENT ON COLUMN read_models.cycle_time_deal_past.outcome IS 'won or lost.'",
    "COMMENT ON COLUMN read_models.cycle_time_deal_past.owner_id IS 'Owner at closing.'",
    "COMMENT ON COLUMN read_models.cycle_time_deal_past.team_id IS 'Team at closing.'",
    "COMMENT ON COLUMN read_models.cycle_time_deal_past.segment IS 'Customer segment.'",
    "COMMENT ON COLUMN read_models.cycle_time_deal_past.pipeline IS 'Pipeline key.'",
    "COMMENT ON COLUMN read_models.cycle_time_deal_past.created_at IS 'occurred_at of deal.created.'",
    (
        "COMMENT ON COLUMN read_models.cycle_time_deal_past.closed_at IS 'occurred_at of the final "
        "deal.signed / deal.lost.'"
    ),
    "COMMENT ON COLUMN read_models.cycle_time_deal_past.cycle_days IS 'closed_at - created_at in days.'",
    (
        "COMMENT ON COLUMN read_models.cycle_time_deal_past.recorded_from IS 'Recorded time from which "
        "this version was the row.'"
    ),
    (
        "COMMENT ON COLUMN read_models.cycle_time_deal_past.recorded_to IS 'Recorded time from which it no "
        "longer was (the next version, or the row went).'"
    ),
    "GRANT SELECT ON read_models.cycle_time_deal_past TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.cycle_time_deal_past TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.versions_since (\n"
        "\tsince TIMESTAMP WITH TIME ZONE NOT NULL\n"
        ")\n"
        "\n"
    ),
    (
        "COMMENT ON TABLE read_models.versions_since IS 'Set when an installation that kept no versions "
        "was upgraded: reports as_of an earlier moment are refused until `dealtrail rebuild` (which "
        "derives every version from the log and empties this).'"
    ),
    (
        "COMMENT ON COLUMN read_models.versions_since.since IS 'Recorded time from which the _past tables "
        "are complete.'"
    ),
    "GRANT SELECT ON read_models.versions_since TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.versions_since TO dealtrail_app",
    (
        "INSERT INTO read_models.versions_since (since) SELECT now() WHERE EXISTS (SELECT 1 FROM "
        "read_models.deal_current)"
    ),
    "CREATE INDEX event_recorded_at_idx ON events.event (recorded_at, position)",
    """DO $$ DECLARE s text; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE left(nspname, 5) = 'asof_' LOOP
    EXECUTE 'DROP SCHEMA ' || quote_ident(s) || ' CASCADE';
  END LOOP;
END $$""",
)

DOWNGRADE = (
    "DROP INDEX events.event_recorded_at_idx",
    "DROP TABLE read_models.versions_since",
    "DROP TABLE read_models.deal_current_past",
    "DROP TABLE read_models.deal_stage_history_past",
    "DROP TABLE read_models.deal_amount_history_past",
    "DROP TABLE read_models.deal_activity_past",
    "DROP TABLE read_models.cycle_time_deal_past",
    "ALTER TABLE read_models.deal_current DROP COLUMN recorded_from",
    "ALTER TABLE read_models.deal_stage_history DROP COLUMN recorded_from",
    "ALTER TABLE read_models.deal_amount_history DROP COLUMN recorded_from",
    "ALTER TABLE read_models.deal_activity DROP COLUMN recorded_from",
    "ALTER TABLE read_models.cycle_time_deal DROP COLUMN recorded_from",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
