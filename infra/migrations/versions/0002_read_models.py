"""Read models for BI: schema read_models, its tables (documented), role bi_reader.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, table comment, [(column, type, comment)], extra DDL)
TABLES = [
    ("deal_current", "One row per deal: its state folded from its events in business-time order (occurred_at), voided events excluded.", [
        ("deal_id", "text PRIMARY KEY", "The deal (stream) id."),
        ("title", "text", "Deal title."),
        ("customer_id", "text", "Customer id."),
        ("customer_name", "text", "Customer name."),
        ("segment", "text", "Customer segment."),
        ("region", "text", "Customer region."),
        ("owner_id", "text", "Current owner (rep)."),
        ("team_id", "text", "Current owner's team."),
        ("created_owner_id", "text", "Owner when the deal was created (new-deal attribution)."),
        ("created_team_id", "text", "Team when the deal was created."),
        ("source_channel", "text", "Where the deal came from."),
        ("pipeline", "text", "Pipeline key."),
        ("stage", "text", "Current stage (an open stage, or won/lost)."),
        ("status", "text", "open, won or lost."),
        ("created_at", "timestamptz", "occurred_at of deal.created."),
        ("stage_entered_at", "timestamptz", "When the current stage was entered."),
        ("last_activity_at", "timestamptz", "Latest of stage entry, contact, quote: the stall clock."),
        ("expected_amount", "numeric", "Expected amount from deal.created."),
        ("latest_quote_amount", "numeric", "Amount of the latest quote (business time)."),
        ("signed_amount", "numeric", "Signed amount (won deals)."),
        ("current_amount", "numeric", "Latest quote amount, else expected amount."),
        ("currency", "text", "ISO-4217 currency (the reporting currency)."),
        ("closed_at", "timestamptz", "When the deal was (finally) won or lost; null when open."),
        ("lost_reason", "text", "Reason of the final loss."),
        ("contacts_count", "integer", "Number of contacts logged."),
        ("last_contact_at", "timestamptz", "Latest contact."),
        ("furthest_stage_index", "integer", "0-based index of the furthest open stage reached; won = number of open stages."),
        ("entered_stages", "text[]", "Open stages actually entered at least once."),
        ("version", "integer", "Stream version of the latest event applied."),
        ("last_position", "bigint", "Global position of the latest event applied."),
    ], ["CREATE INDEX ON read_models.deal_current (status, stage)",
        "CREATE INDEX ON read_models.deal_current (owner_id)",
        "CREATE INDEX ON read_models.deal_current (team_id)",
        "CREATE INDEX ON read_models.deal_current (segment)",
        "CREATE INDEX ON read_models.deal_current (pipeline, created_at)",
        "CREATE INDEX ON read_models.deal_current (closed_at)"]),
    ("deal_stage_history", "Every visit of a deal to an open stage, in business time.", [
        ("deal_id", "text NOT NULL", "The deal."),
        ("stage", "text NOT NULL", "The open stage visited."),
        ("visit", "integer NOT NULL", "1, 2, ... when the deal re-enters the stage."),
        ("pipeline", "text NOT NULL", "Pipeline key."),
        ("entered_at", "timestamptz NOT NULL", "When the stage was entered."),
        ("exited_at", "timestamptz", "When it was left; null while the deal is still there."),
        ("dwell_seconds", "double precision", "exited_at - entered_at in seconds; null while open."),
        ("exit_to", "text", "Next stage, or won/lost."),
        ("entered_by", "text NOT NULL", "create, move (next stage), skip (forward past stages), regression (backward), reopen."),
        ("owner_id", "text", "Owner when the stage was entered."),
        ("team_id", "text", "Team when the stage was entered."),
    ], ["ALTER TABLE read_models.deal_stage_history ADD PRIMARY KEY (deal_id, stage, visit)",
        "CREATE INDEX ON read_models.deal_stage_history (stage, entered_at)",
        "CREATE INDEX ON read_models.deal_stage_history (owner_id, entered_at)",
        "CREATE INDEX ON read_models.deal_stage_history (team_id, entered_at)"]),
    ("deal_amount_history", "The deal's current amount (latest quote, else expected) over business time.", [
        ("deal_id", "text NOT NULL", "The deal."),
        ("valid_from", "timestamptz NOT NULL", "From when this amount applies."),
        ("seq", "integer NOT NULL", "Order within the deal."),
        ("amount", "numeric", "The amount."),
    ], ["ALTER TABLE read_models.deal_amount_history ADD PRIMARY KEY (deal_id, seq)",
        "CREATE INDEX ON read_models.deal_amount_history (deal_id, valid_from)"]),
    ("cycle_time_deal", "Closed deals: cycle time from creation to the final close.", [
        ("deal_id", "text PRIMARY KEY", "The deal."),
        ("outcome", "text NOT NULL", "won or lost."),
        ("owner_id", "text", "Owner at closing."),
        ("team_id", "text", "Team at closing."),
        ("segment", "text", "Customer segment."),
        ("pipeline", "text", "Pipeline key."),
        ("created_at", "timestamptz NOT NULL", "occurred_at of deal.created."),
        ("closed_at", "timestamptz NOT NULL", "occurred_at of the final deal.signed / deal.lost."),
        ("cycle_days", "double precision NOT NULL", "closed_at - created_at in days."),
    ], ["CREATE INDEX ON read_models.cycle_time_deal (outcome, closed_at)"]),
    ("deal_activity", "Per-deal facts that performance aggregates: creation, contacts, quotes, feedback and the final close, each attributed to the owner at that moment.", [
        ("deal_id", "text NOT NULL", "The deal."),
        ("seq", "integer NOT NULL", "Order within the deal."),
        ("kind", "text NOT NULL", "created, contact, quote, feedback, won, lost."),
        ("occurred_at", "timestamptz NOT NULL", "Business time."),
        ("month", "date NOT NULL", "First day of the UTC month of occurred_at."),
        ("owner_id", "text", "Owner at that moment."),
        ("team_id", "text", "Team at that moment."),
        ("amount", "numeric", "Quote amount or signed amount."),
        ("cycle_days", "double precision", "Cycle time for won/lost."),
        ("score", "integer", "Satisfaction score for feedback."),
    ], ["ALTER TABLE read_models.deal_activity ADD PRIMARY KEY (deal_id, seq)",
        "CREATE INDEX ON read_models.deal_activity (month, owner_id)",
        "CREATE INDEX ON read_models.deal_activity (month, team_id)"]),
    ("funnel_delta", "Per-deal, per-day changes behind funnel_daily (entries, exits, open count and amount deltas).", [
        ("deal_id", "text NOT NULL", "The deal."),
        ("seq", "integer NOT NULL", "Order within the deal."),
        ("day", "date NOT NULL", "UTC day."),
        ("pipeline", "text NOT NULL", "Pipeline key."),
        ("stage", "text NOT NULL", "Open stage."),
        ("owner_id", "text", "Owner when the stage was entered."),
        ("team_id", "text", "Team when the stage was entered."),
        ("entered", "integer NOT NULL", "Entries."),
        ("advanced", "integer NOT NULL", "Exits to a later stage or won."),
        ("regressed", "integer NOT NULL", "Exits to an earlier stage."),
        ("lost", "integer NOT NULL", "Exits to lost."),
        ("open_delta", "integer NOT NULL", "Change of the open count."),
        ("amount_delta", "numeric NOT NULL", "Change of the open amount."),
    ], ["ALTER TABLE read_models.funnel_delta ADD PRIMARY KEY (deal_id, seq)",
        "CREATE INDEX ON read_models.funnel_delta (pipeline, stage, owner_id, team_id, day)"]),
    ("funnel_daily", "Funnel trend per day, stage and owner/team. A key has a row on each day its funnel changed; open_* are end-of-day values, so carry the last row forward on days without one.", [
        ("day", "date NOT NULL", "UTC day (business time)."),
        ("pipeline", "text NOT NULL", "Pipeline key."),
        ("stage", "text NOT NULL", "Open stage."),
        ("owner_id", "text", "Owner when the stage was entered."),
        ("team_id", "text", "Team when the stage was entered."),
        ("entered", "integer NOT NULL", "Deals that entered the stage that day."),
        ("advanced", "integer NOT NULL", "Deals that left it forward (or won)."),
        ("regressed", "integer NOT NULL", "Deals that left it backward."),
        ("lost", "integer NOT NULL", "Deals lost from it."),
        ("open_end_of_day", "integer NOT NULL", "Deals in the stage at the end of the day."),
        ("open_amount_end_of_day", "numeric NOT NULL", "Their summed current amount."),
    ], ["CREATE INDEX ON read_models.funnel_daily (pipeline, stage, owner_id, team_id, day)",
        "CREATE INDEX ON read_models.funnel_daily (day)"]),
]

PERFORMANCE_COLUMNS = [
    ("month", "date NOT NULL", "First day of the UTC month."),
    ("revenue_won", "numeric NOT NULL", "Sum of signed amounts of deals finally won in the month."),
    ("deals_won", "integer NOT NULL", "Deals finally won in the month."),
    ("deals_lost", "integer NOT NULL", "Deals finally lost in the month."),
    ("win_rate", "double precision", "won / (won + lost)."),
    ("avg_deal_size", "numeric", "revenue_won / deals_won."),
    ("avg_cycle_days", "double precision", "Mean cycle time of the deals won in the month."),
    ("cycle_days_sum", "double precision NOT NULL", "Sum of those cycle times (for averaging over periods)."),
    ("contacts", "integer NOT NULL", "Contacts logged in the month."),
    ("quotes", "integer NOT NULL", "Quotes issued in the month."),
    ("new_deals", "integer NOT NULL", "Deals created in the month."),
    ("csat_avg", "double precision", "Mean feedback score in the month."),
    ("csat_sum", "integer NOT NULL", "Sum of feedback scores."),
    ("csat_count", "integer NOT NULL", "Number of feedback scores."),
    ("open_deals", "integer NOT NULL", "Deals open at the end of the month (owner when their stage was entered)."),
    ("sales_velocity", "double precision", "open_deals * win_rate * avg_deal_size / avg_cycle_days, per day."),
]
TABLES += [
    ("rep_performance_month", "Per rep and month. Wins, losses and revenue count for the owner at closing; contacts, quotes and feedback for the owner when they happened; new deals for the owner at creation.",
     PERFORMANCE_COLUMNS[:1] + [("owner_id", "text NOT NULL", "The rep."),
                                ("team_id", "text", "The rep's team in their latest activity that month.")]
     + PERFORMANCE_COLUMNS[1:],
     ["ALTER TABLE read_models.rep_performance_month ADD PRIMARY KEY (month, owner_id)",
      "CREATE INDEX ON read_models.rep_performance_month (team_id, month)"]),
    ("team_performance_month", "Per team and month; same attribution rules as rep_performance_month.",
     PERFORMANCE_COLUMNS[:1] + [("team_id", "text NOT NULL", "The team.")] + PERFORMANCE_COLUMNS[1:],
     ["ALTER TABLE read_models.team_performance_month ADD PRIMARY KEY (month, team_id)"]),
    ("pipeline_stage", "Stage definitions in force (ordered open stages per pipeline).", [
        ("pipeline", "text NOT NULL", "Pipeline key."),
        ("stage", "text NOT NULL", "Open stage key."),
        ("stage_index", "integer NOT NULL", "0-based order."),
        ("probability", "numeric NOT NULL", "Configured win probability."),
        ("stall_after_days", "integer", "Days without activity after which an open deal is stalled."),
        ("target_conversion", "numeric", "Target conversion to the next stage."),
    ], ["ALTER TABLE read_models.pipeline_stage ADD PRIMARY KEY (pipeline, stage)",
        "INSERT INTO read_models.pipeline_stage VALUES "
        "('default','lead',0,0.05,14,NULL),('default','contacted',1,0.10,14,NULL),"
        "('default','needs_analysis',2,0.20,21,NULL),('default','proposal',3,0.40,21,NULL),"
        "('default','negotiation',4,0.70,30,NULL)"]),
    ("projection_checkpoint", "Last position each projection applied, per Kafka partition (partition -1: a floor for every partition, set by rebuild).", [
        ("projection", "text NOT NULL", "Projection name."),
        ("partition", "integer NOT NULL", "Kafka partition, or -1."),
        ("position", "bigint NOT NULL", "Highest position applied from that partition."),
        ("updated_at", "timestamptz NOT NULL DEFAULT now()", "When it moved."),
    ], ["ALTER TABLE read_models.projection_checkpoint ADD PRIMARY KEY (projection, partition)"]),
]

STALLED_VIEW = """
CREATE VIEW read_models.stalled_deals AS
SELECT d.deal_id, d.title, d.owner_id, d.team_id, d.pipeline, d.stage, d.stage_entered_at,
       d.last_activity_at, s.stall_after_days,
       extract(epoch FROM now() - d.last_activity_at) / 86400.0 AS days_since_activity,
       d.last_activity_at + make_interval(days => s.stall_after_days) AS stalled_since,
       d.current_amount
FROM read_models.deal_current d
JOIN read_models.pipeline_stage s ON s.pipeline = d.pipeline AND s.stage = d.stage
WHERE d.status = 'open' AND s.stall_after_days IS NOT NULL
  AND d.last_activity_at + make_interval(days => s.stall_after_days) < now();
COMMENT ON VIEW read_models.stalled_deals IS 'Open deals with no stage move, contact or quote for longer than their stage''s stall_after_days (evaluated at query time).';
"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_ddl(schema: str = "read_models", tables: list | None = None) -> list[str]:
    """CREATE TABLE + COMMENT ON + extra DDL for `tables` (default: this revision's)."""
    statements = []
    for name, comment, columns, extra in TABLES if tables is None else tables:
        cols = ",\n  ".join(f"{c} {t}" for c, t, _ in columns)
        statements.append(f"CREATE TABLE {schema}.{name} (\n  {cols}\n)")
        statements.append(f"COMMENT ON TABLE {schema}.{name} IS {_quote(comment)}")
        statements += [f"COMMENT ON COLUMN {schema}.{name}.{c} IS {_quote(doc)}" for c, _, doc in columns]
        statements += [e.replace("read_models.", f"{schema}.") for e in extra]
    return statements


UPGRADE_HEAD = r"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bi_reader') THEN
    CREATE ROLE bi_reader NOLOGIN;
  END IF;
END $$;
CREATE SCHEMA read_models;
COMMENT ON SCHEMA read_models IS 'Dealtrail read models for BI (documented per table and column). Role bi_reader may SELECT here and nowhere else.';
"""

GRANTS = r"""
GRANT USAGE ON SCHEMA read_models TO bi_reader, dealtrail_app;
GRANT SELECT ON ALL TABLES IN SCHEMA read_models TO bi_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA read_models TO dealtrail_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA read_models GRANT SELECT ON TABLES TO bi_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA read_models GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO dealtrail_app;
"""


def upgrade() -> None:
    op.execute(UPGRADE_HEAD)
    for statement in table_ddl():
        op.execute(statement)
    op.execute(STALLED_VIEW)
    op.execute(GRANTS)


def downgrade() -> None:
    op.execute("DROP SCHEMA read_models CASCADE")
