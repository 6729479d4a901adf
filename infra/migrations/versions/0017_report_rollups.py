"""Report pre-aggregates: funnel_cohort_month(_entered) (the cohort funnel per creation month,
so whole months need no day or deal scan), cycle_time_stage (per closed deal and stage, the
dwell the cycle-time report takes percentiles of, beside its filters; value-ordered covering
indexes on it and cycle_time_deal) and funnel_open_span (open visits cut by amount changes,
range-indexed: the snapshot funnel at any time), and a partial covering index of the open deals
in deal_current (the snapshot funnel now); filled from the tables they derive from.

Revision ID: 0017
Revises: 0016
"""
import importlib

from alembic import op

from projections.sums import rollups

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_m2 = importlib.import_module("infra.migrations.versions.0002_read_models")

_KEY = [
    ("pipeline", "text NOT NULL", "Pipeline key."),
    ("month", "date NOT NULL", "First day of the UTC month the deals were created in (business time)."),
    ("owner_id", "text", "Current owner."),
    ("team_id", "text", "Current team."),
    ("segment", "text", "Customer segment."),
]

TABLES = [
    ("funnel_cohort_month", "Deals per UTC creation month, owner, team, segment, furthest stage and status: funnel_cohort summed by month (reached, won, lost of the cohort funnel).", [
        *_KEY,
        ("furthest_stage_index", "integer NOT NULL", "Furthest open stage reached (number of open stages = won)."),
        ("status", "text NOT NULL", "open, won or lost."),
        ("deals", "integer NOT NULL", "How many deals share all of the above."),
    ], ["CREATE INDEX funnel_cohort_month_pipeline_month_idx ON read_models.funnel_cohort_month (pipeline, month)"]),
    ("funnel_cohort_month_entered", "Deals per UTC creation month, owner, team and segment that actually entered each open stage (entered of the cohort funnel; skipped = reached - entered).", [
        *_KEY,
        ("stage", "text NOT NULL", "Open stage."),
        ("deals", "integer NOT NULL", "How many of those deals actually entered the stage."),
    ], ["CREATE INDEX funnel_cohort_month_entered_pipeline_month_idx "
        "ON read_models.funnel_cohort_month_entered (pipeline, month)"]),
    ("cycle_time_stage", "Closed deals: days spent in each open stage (summed over visits), with the cycle-time filters; the per-stage part of the cycle-time report.", [
        ("deal_id", "text NOT NULL", "The deal (a row of cycle_time_deal)."),
        ("stage", "text NOT NULL", "An open stage the deal left at least once."),
        ("outcome", "text NOT NULL", "won or lost (final close)."),
        ("pipeline", "text", "Pipeline key."),
        ("owner_id", "text", "Owner at closing."),
        ("team_id", "text", "Team at closing."),
        ("segment", "text", "Customer segment."),
        ("closed_at", "timestamptz NOT NULL", "occurred_at of the final deal.signed / deal.lost."),
        ("dwell_days", "double precision NOT NULL", "Days spent in the stage, summed over its visits (deal_stage_history.dwell_seconds / 86400)."),
    ], ["ALTER TABLE read_models.cycle_time_stage ADD PRIMARY KEY (deal_id, stage)"]),
    ("funnel_open_span", "Open stage visits cut where the current amount changes: the deals open in each stage at any business time T, with their amounts then, are the spans whose `during` contains T (the snapshot funnel).", [
        ("deal_id", "text NOT NULL", "The deal."),
        ("stage", "text NOT NULL", "The open stage it was in."),
        ("visit", "integer NOT NULL", "Which visit of the stage (deal_stage_history.visit)."),
        ("valid_from", "timestamptz NOT NULL", "Start of the span (business time)."),
        ("during", "tstzrange NOT NULL", "[start, end) of the span: within the visit, while the deal had one current amount; end null while open."),
        ("pipeline", "text NOT NULL", "Pipeline key."),
        ("amount", "numeric", "Current amount during the span (latest quote, else expected amount; deal_amount_history)."),
        ("owner_id", "text", "Current owner (deal_current)."),
        ("team_id", "text", "Current team."),
        ("segment", "text", "Customer segment."),
    ], ["ALTER TABLE read_models.funnel_open_span ADD PRIMARY KEY (deal_id, stage, visit, valid_from)",
        "CREATE INDEX funnel_open_span_during_idx ON read_models.funnel_open_span USING gist (during) "
        "INCLUDE (pipeline, stage, amount, owner_id, team_id, segment)"]),
]

# Per filter (none, owner_id, team_id, segment): an outcome's rows in percentile order, the other
# filter columns included (projections.tables.declared.cycle_indexes).
_INCLUDE = ("closed_at", "owner_id", "team_id", "segment", "pipeline")
INDEXES = [
    (f"{table}_{'outcome_pipeline' if key is None else key + '_outcome'}_{'_'.join(ordered)}_idx", table,
     ", ".join(["outcome", "pipeline"] if key is None else [key, "outcome"]) + ", " + ", ".join(ordered),
     ", ".join(c for c in _INCLUDE if c != (key or "pipeline")))
    for table, ordered in (("cycle_time_deal", ("cycle_days",)), ("cycle_time_stage", ("stage", "dwell_days")))
    for key in (None, "owner_id", "team_id", "segment")
]


def upgrade() -> None:
    for statement in _m2.table_ddl(tables=TABLES):
        op.execute(statement)
    conn = op.get_bind()
    rollups.recompute_cohort_month(conn, "read_models")
    rollups.refresh_cycle_stage(conn, "read_models", None)
    rollups.refresh_open_spans(conn, "read_models", None)
    for name, table, columns, include in INDEXES:
        op.execute(f"CREATE INDEX {name} ON read_models.{table} ({columns}) INCLUDE ({include})")
    op.execute("CREATE INDEX deal_current_open_pipeline_stage_idx ON read_models.deal_current (pipeline, stage) "
               "INCLUDE (current_amount, owner_id, team_id, segment) WHERE status = 'open'")
    for name, *_ in TABLES:
        op.execute(f"GRANT SELECT ON read_models.{name} TO bi_reader")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.{name} TO dealtrail_app")


def downgrade() -> None:
    op.execute("DROP INDEX read_models.deal_current_open_pipeline_stage_idx")
    for name, table, *_ in INDEXES:
        if table == "cycle_time_deal":
            op.execute(f"DROP INDEX read_models.{name}")
    for name, *_ in TABLES:
        op.execute(f"DROP TABLE read_models.{name}")
