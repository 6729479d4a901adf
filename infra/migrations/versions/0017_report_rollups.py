"""Report pre-aggregates: funnel_cohort_month(_entered) (the cohort funnel per creation month,
so whole months need no day or deal scan), cycle_time_stage (per closed deal and stage, the
dwell the cycle-time report takes percentiles of, beside its filters; value-ordered covering
indexes on it and cycle_time_deal) and funnel_open_span (open visits cut by amount changes,
range-indexed: the snapshot funnel at any time), and a partial covering index of the open deals
in deal_current (the snapshot funnel now); filled from the tables they derive from.

Frozen (issue 24): the statements below are what this revision sent when it was built from
projections.rollups and 0002's table_ddl (tables, their fill, indexes, grants);
a migration is history and no longer follows today's code.

Revision ID: 0017
Revises: 0016
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UPGRADE = (
    """CREATE TABLE read_models.funnel_cohort_month (
  pipeline text NOT NULL,
  month date NOT NULL,
  owner_id text,
  team_id text,
  segment text,
  furthest_stage_index integer NOT NULL,
  status text NOT NULL,
  deals integer NOT NULL
)""",
    (
        "COMMENT ON TABLE read_models.funnel_cohort_month IS 'Deals per UTC creation month, owner, team, "
        "segment, furthest stage and status: funnel_cohort summed by month (reached, won, lost of the "
        "cohort funnel).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month.pipeline IS 'Pipeline key.'",
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month.month IS 'First day of the UTC month the deals "
        "were created in (business time).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month.owner_id IS 'Current owner.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month.team_id IS 'Current team.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month.segment IS 'Customer segment.'",
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month.furthest_stage_index IS 'Furthest open stage "
        "reached (number of open stages = won).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month.status IS 'open, won or lost.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month.deals IS 'How many deals share all of the above.'",
    "CREATE INDEX funnel_cohort_month_pipeline_month_idx ON read_models.funnel_cohort_month (pipeline, month)",
    """CREATE TABLE read_models.funnel_cohort_month_entered (
  pipeline text NOT NULL,
  month date NOT NULL,
  owner_id text,
  team_id text,
  segment text,
  stage text NOT NULL,
  deals integer NOT NULL
)""",
    (
        "COMMENT ON TABLE read_models.funnel_cohort_month_entered IS 'Deals per UTC creation month, owner, "
        "team and segment that actually entered each open stage (entered of the cohort funnel; skipped = "
        "reached - entered).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered.pipeline IS 'Pipeline key.'",
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month_entered.month IS 'First day of the UTC month "
        "the deals were created in (business time).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered.owner_id IS 'Current owner.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered.team_id IS 'Current team.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered.segment IS 'Customer segment.'",
    "COMMENT ON COLUMN read_models.funnel_cohort_month_entered.stage IS 'Open stage.'",
    (
        "COMMENT ON COLUMN read_models.funnel_cohort_month_entered.deals IS 'How many of those deals "
        "actually entered the stage.'"
    ),
    (
        "CREATE INDEX funnel_cohort_month_entered_pipeline_month_idx ON "
        "read_models.funnel_cohort_month_entered (pipeline, month)"
    ),
    """CREATE TABLE read_models.cycle_time_stage (
  deal_id text NOT NULL,
  stage text NOT NULL,
  outcome text NOT NULL,
  pipeline text,
  owner_id text,
  team_id text,
  segment text,
  closed_at timestamptz NOT NULL,
  dwell_days double precision NOT NULL
)""",
    (
        "COMMENT ON TABLE read_models.cycle_time_stage IS 'Closed deals: days spent in each open stage "
        "(summed over visits), with the cycle-time filters; the per-stage part of the cycle-time report.'"
    ),
    "COMMENT ON COLUMN read_models.cycle_time_stage.deal_id IS 'The deal (a row of cycle_time_deal).'",
    "COMMENT ON COLUMN read_models.cycle_time_stage.stage IS 'An open stage the deal left at least once.'",
    "COMMENT ON COLUMN read_models.cycle_time_stage.outcome IS 'won or lost (final close).'",
    "COMMENT ON COLUMN read_models.cycle_time_stage.pipeline IS 'Pipeline key.'",
    "COMMENT ON COLUMN read_models.cycle_time_stage.owner_id IS 'Owner at closing.'",
    "COMMENT ON COLUMN read_models.cycle_time_stage.team_id IS 'Team at closing.'",
    "COMMENT ON COLUMN read_models.cycle_time_stage.segment IS 'Customer segment.'",
    (
        "COMMENT ON COLUMN read_models.cycle_time_stage.closed_at IS 'occurred_at of the final deal.signed "
        "/ deal.lost.'"
    ),
    (
        "COMMENT ON COLUMN read_models.cycle_time_stage.dwell_days IS 'Days spent in the stage, summed "
        "over its visits (deal_stage_history.dwell_seconds / 86400).'"
    ),
    "ALTER TABLE read_models.cycle_time_stage ADD PRIMARY KEY (deal_id, stage)",
    """CREATE TABLE read_models.funnel_open_span (
  deal_id text NOT NULL,
  stage text NOT NULL,
  visit integer NOT NULL,
  valid_from timestamptz NOT NULL,
  during tstzrange NOT NULL,
  pipeline text NOT NULL,
  amount numeric,
  owner_id text,
  team_id text,
  segment text
)""",
    (
        "COMMENT ON TABLE read_models.funnel_open_span IS 'Open stage visits cut where the current amount "
        "changes: the deals open in each stage at any business time T, with their amounts then, are the "
        "spans whose `during` contains T (the snapshot funnel).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_open_span.deal_id IS 'The deal.'",
    "COMMENT ON COLUMN read_models.funnel_open_span.stage IS 'The open stage it was in.'",
    (
        "COMMENT ON COLUMN read_models.funnel_open_span.visit IS 'Which visit of the stage "
        "(deal_stage_history.visit).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_open_span.valid_from IS 'Start of the span (business time).'",
    (
        "COMMENT ON COLUMN read_models.funnel_open_span.during IS '[start, end) of the span: within the "
        "visit, while the deal had one current amount; end null while open.'"
    ),
    "COMMENT ON COLUMN read_models.funnel_open_span.pipeline IS 'Pipeline key.'",
    (
        "COMMENT ON COLUMN read_models.funnel_open_span.amount IS 'Current amount during the span (latest "
        "quote, else expected amount; deal_amount_history).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_open_span.owner_id IS 'Current owner (deal_current).'",
    "COMMENT ON COLUMN read_models.funnel_open_span.team_id IS 'Current team.'",
    "COMMENT ON COLUMN read_models.funnel_open_span.segment IS 'Customer segment.'",
    "ALTER TABLE read_models.funnel_open_span ADD PRIMARY KEY (deal_id, stage, visit, valid_from)",
    (
        "CREATE INDEX funnel_open_span_during_idx ON read_models.funnel_open_span USING gist (during) "
        "INCLUDE (pipeline, stage, amount, owner_id, team_id, segment)"
    ),
    """
DELETE FROM read_models.funnel_cohort_month;
INSERT INTO read_models.funnel_cohort_month (pipeline, month, owner_id, team_id, segment, furthest_stage_index,
    status, deals)
SELECT c.pipeline, date_trunc('month', c.day)::date, c.owner_id, c.team_id, c.segment, c.furthest_stage_index,
       c.status, sum(c.deals)
FROM read_models.funnel_cohort c
GROUP BY 1, 2, 3, 4, 5, 6, 7;
DELETE FROM read_models.funnel_cohort_month_entered;
INSERT INTO read_models.funnel_cohort_month_entered (pipeline, month, owner_id, team_id, segment, stage, deals)
SELECT c.pipeline, date_trunc('month', c.day)::date, c.owner_id, c.team_id, c.segment, stage, sum(c.deals)
FROM read_models.funnel_cohort c, unnest(c.entered_stages) AS stage
GROUP BY 1, 2, 3, 4, 5, 6;
""",
    """
DELETE FROM read_models.cycle_time_stage t WHERE true;
INSERT INTO read_models.cycle_time_stage (deal_id, stage, outcome, pipeline, owner_id, team_id, segment, closed_at,
    dwell_days)
SELECT c.deal_id, h.stage, c.outcome, c.pipeline, c.owner_id, c.team_id, c.segment, c.closed_at,
       sum(h.dwell_seconds ORDER BY h.visit) / 86400.0 AS dwell_days  -- one order: float sums agree
FROM read_models.cycle_time_deal c JOIN read_models.deal_stage_history h USING (deal_id)
WHERE h.dwell_seconds IS NOT NULL AND true AND true
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
""",
    """
DELETE FROM read_models.funnel_open_span o WHERE true;
INSERT INTO read_models.funnel_open_span (deal_id, stage, visit, valid_from, during, pipeline, amount, owner_id,
    team_id, segment)
WITH amounts AS (
    SELECT a.deal_id, a.valid_from, a.amount,
           lead(a.valid_from) OVER (PARTITION BY a.deal_id ORDER BY a.valid_from, a.seq) AS valid_to
    FROM (SELECT h.deal_id, h.valid_from, h.seq, h.amount FROM read_models.deal_amount_history h WHERE true
          UNION ALL
          SELECT d.deal_id, '-infinity', -1, NULL FROM read_models.deal_current d WHERE true) a),
spans AS (
    SELECT v.deal_id, v.stage, v.visit, v.pipeline, a.amount,
           greatest(v.entered_at, a.valid_from) AS span_from, least(v.exited_at, a.valid_to) AS span_to
    FROM read_models.deal_stage_history v JOIN amounts a ON a.deal_id = v.deal_id
    WHERE true
      AND (a.valid_to IS NULL OR a.valid_to > v.entered_at)
      AND (v.exited_at IS NULL OR a.valid_from < v.exited_at))
SELECT p.deal_id, p.stage, p.visit, p.span_from AS valid_from, tstzrange(p.span_from, p.span_to) AS during,
       p.pipeline, p.amount, d.owner_id, d.team_id, d.segment
FROM spans p JOIN read_models.deal_current d ON d.deal_id = p.deal_id
WHERE p.span_to IS NULL OR p.span_to > p.span_from;
""",
    (
        "CREATE INDEX cycle_time_deal_outcome_pipeline_cycle_days_idx ON read_models.cycle_time_deal "
        "(outcome, pipeline, cycle_days) INCLUDE (closed_at, owner_id, team_id, segment)"
    ),
    (
        "CREATE INDEX cycle_time_deal_owner_id_outcome_cycle_days_idx ON read_models.cycle_time_deal "
        "(owner_id, outcome, cycle_days) INCLUDE (closed_at, team_id, segment, pipeline)"
    ),
    (
        "CREATE INDEX cycle_time_deal_team_id_outcome_cycle_days_idx ON read_models.cycle_time_deal "
        "(team_id, outcome, cycle_days) INCLUDE (closed_at, owner_id, segment, pipeline)"
    ),
    (
        "CREATE INDEX cycle_time_deal_segment_outcome_cycle_days_idx ON read_models.cycle_time_deal "
        "(segment, outcome, cycle_days) INCLUDE (closed_at, owner_id, team_id, pipeline)"
    ),
    (
        "CREATE INDEX cycle_time_stage_outcome_pipeline_stage_dwell_days_idx ON "
        "read_models.cycle_time_stage (outcome, pipeline, stage, dwell_days) INCLUDE (closed_at, owner_id, "
        "team_id, segment)"
    ),
    (
        "CREATE INDEX cycle_time_stage_owner_id_outcome_stage_dwell_days_idx ON "
        "read_models.cycle_time_stage (owner_id, outcome, stage, dwell_days) INCLUDE (closed_at, team_id, "
        "segment, pipeline)"
    ),
    (
        "CREATE INDEX cycle_time_stage_team_id_outcome_stage_dwell_days_idx ON "
        "read_models.cycle_time_stage (team_id, outcome, stage, dwell_days) INCLUDE (closed_at, owner_id, "
        "segment, pipeline)"
    ),
    (
        "CREATE INDEX cycle_time_stage_segment_outcome_stage_dwell_days_idx ON "
        "read_models.cycle_time_stage (segment, outcome, stage, dwell_days) INCLUDE (closed_at, owner_id, "
        "team_id, pipeline)"
    ),
    (
        "CREATE INDEX deal_current_open_pipeline_stage_idx ON read_models.deal_current (pipeline, stage) "
        "INCLUDE (current_amount, owner_id, team_id, segment) WHERE status = 'open'"
    ),
    "GRANT SELECT ON read_models.funnel_cohort_month TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.funnel_cohort_month TO dealtrail_app",
    "GRANT SELECT ON read_models.funnel_cohort_month_entered TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.funnel_cohort_month_entered TO dealtrail_app",
    "GRANT SELECT ON read_models.cycle_time_stage TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.cycle_time_stage TO dealtrail_app",
    "GRANT SELECT ON read_models.funnel_open_span TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.funnel_open_span TO dealtrail_app",
)

DOWNGRADE = (
    "DROP INDEX read_models.deal_current_open_pipeline_stage_idx",
    "DROP INDEX read_models.cycle_time_deal_outcome_pipeline_cycle_days_idx",
    "DROP INDEX read_models.cycle_time_deal_owner_id_outcome_cycle_days_idx",
    "DROP INDEX read_models.cycle_time_deal_team_id_outcome_cycle_days_idx",
    "DROP INDEX read_models.cycle_time_deal_segment_outcome_cycle_days_idx",
    "DROP TABLE read_models.funnel_cohort_month",
    "DROP TABLE read_models.funnel_cohort_month_entered",
    "DROP TABLE read_models.cycle_time_stage",
    "DROP TABLE read_models.funnel_open_span",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
