"""funnel_cohort: deals per creation day and outcome shape, so cohort funnels need not scan deals.

Revision ID: 0006
Revises: 0005
"""
import importlib

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_m2 = importlib.import_module("infra.migrations.versions.0002_read_models")

TABLES = [
    ("funnel_cohort", "Deals per UTC creation day and shape (owner, team, segment, furthest stage, status, stages entered): the cohort funnel summed without scanning deals.", [
        ("pipeline", "text NOT NULL", "Pipeline key."),
        ("day", "date NOT NULL", "UTC day the deals were created (business time)."),
        ("owner_id", "text", "Current owner."),
        ("team_id", "text", "Current team."),
        ("segment", "text", "Customer segment."),
        ("furthest_stage_index", "integer NOT NULL", "Furthest open stage reached (number of open stages = won)."),
        ("status", "text NOT NULL", "open, won or lost."),
        ("entered_stages", "text[] NOT NULL", "Open stages actually entered."),
        ("deals", "integer NOT NULL", "How many deals share all of the above."),
    ], ["CREATE INDEX ON read_models.funnel_cohort (pipeline, day)"]),
]


def upgrade() -> None:
    for statement in _m2.table_ddl(tables=TABLES):
        op.execute(statement)
    op.execute("""
        INSERT INTO read_models.funnel_cohort
        SELECT pipeline, (created_at AT TIME ZONE 'UTC')::date, owner_id, team_id, segment,
               furthest_stage_index, status, entered_stages, count(*)
        FROM read_models.deal_current GROUP BY 1, 2, 3, 4, 5, 6, 7, 8""")
    op.execute("GRANT SELECT ON read_models.funnel_cohort TO bi_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.funnel_cohort TO dealtrail_app")


def downgrade() -> None:
    op.execute("DROP TABLE read_models.funnel_cohort")
