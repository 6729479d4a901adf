"""Reports as of a moment without aggregating the whole versioned history: the sums behind the
cohort funnel and the performance reports kept at recorded moments (`<sums>_at`, versioned by
`during`; `sums_moment` lists the moments), an index for the rep's team as of a moment on
deal_activity_past, deal_current_past by created_at, and the `_past` tables indexed by deal (reports as of a moment probe a deal's
versions). The worker takes the snapshots (projections.sums.snapshots).

Revision ID: 0020
Revises: 0019
"""
from alembic import op
from sqlalchemy.schema import CreateIndex, CreateTable, SetColumnComment, SetTableComment

from projections.tables import declared as tables

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in (*tables.SNAPSHOT_TABLES, tables.sums_moment):
        op.execute(CreateTable(table))
        for index in table.indexes:
            op.execute(CreateIndex(index))
        op.execute(SetTableComment(table))
        for column in table.columns:
            op.execute(SetColumnComment(column))
        for statement in tables.grants(table.name):
            op.execute(statement)
    # IF NOT EXISTS: a database created from scratch has it from 0018 (which creates the _past
    # tables with the indexes declared today)
    op.execute("CREATE INDEX IF NOT EXISTS deal_activity_past_owner_id_month_occurred_at_idx "
               "ON read_models.deal_activity_past (owner_id, month, occurred_at, deal_id, seq)")
    op.execute("CREATE INDEX IF NOT EXISTS deal_current_past_created_at_idx ON read_models.deal_current_past (created_at)")
    for name in tables.VERSIONED_TABLES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name}_past_deal_id_idx ON read_models.{name}_past (deal_id)")


def downgrade() -> None:
    for name in tables.VERSIONED_TABLES:
        op.execute(f"DROP INDEX IF EXISTS read_models.{name}_past_deal_id_idx")
    op.execute("DROP INDEX IF EXISTS read_models.deal_current_past_created_at_idx")
    op.execute("DROP INDEX IF EXISTS read_models.deal_activity_past_owner_id_month_occurred_at_idx")
    for table in (tables.sums_moment, *tables.SNAPSHOT_TABLES):
        op.execute(f"DROP TABLE read_models.{table.name}")
