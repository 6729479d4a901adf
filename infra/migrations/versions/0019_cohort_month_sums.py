"""funnel_cohort_month(_entered) kept by deltas like the other sums (a live write used to
recompute every creation month it touched from funnel_cohort: at 1M events, 40% of the
worker's time): each gets a unique key to upsert on. events.stream_head gets a partial index of
the pipeline streams (the projection reads their stage lists every poll; it scanned the heads).

Revision ID: 0019
Revises: 0018
"""
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE UNIQUE INDEX funnel_cohort_month_key_idx ON read_models.funnel_cohort_month "
               "(pipeline, month, owner_id, team_id, segment, furthest_stage_index, status) NULLS NOT DISTINCT")
    op.execute("CREATE UNIQUE INDEX funnel_cohort_month_entered_key_idx ON read_models.funnel_cohort_month_entered "
               "(pipeline, month, owner_id, team_id, segment, stage) NULLS NOT DISTINCT")
    op.execute("CREATE INDEX stream_head_pipeline_idx ON events.stream_head (deal_id) "
               "WHERE deal_id LIKE 'pipeline:%'")


def downgrade() -> None:
    op.execute("DROP INDEX events.stream_head_pipeline_idx")
    op.execute("DROP INDEX read_models.funnel_cohort_month_entered_key_idx")
    op.execute("DROP INDEX read_models.funnel_cohort_month_key_idx")
