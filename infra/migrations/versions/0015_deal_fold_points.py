"""Resume points of the live projection (read_models.deal_fold_point); a deal's final close is
activity row seq 0 (at most one per deal; a reopen takes it back), so rows added later keep
the numbers a full derivation gives them.

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE read_models.deal_fold_point (
  deal_id text PRIMARY KEY,
  point   jsonb NOT NULL
)""")
    op.execute("COMMENT ON TABLE read_models.deal_fold_point IS 'Internal to the live projection, not for "
               "reporting: where it resumes each deal, so that an event later in business time than everything "
               "before it is folded on its own instead of the whole stream again. Absent (rebuilt tables, a deal "
               "with events left out) means: derive the deal from its whole stream.'")
    op.execute("COMMENT ON COLUMN read_models.deal_fold_point.deal_id IS 'The deal.'")
    op.execute("COMMENT ON COLUMN read_models.deal_fold_point.point IS "
               "'The deal''s folded state and row counters, as projections.points stores them.'")
    op.execute("GRANT SELECT ON read_models.deal_fold_point TO bi_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.deal_fold_point TO dealtrail_app")
    op.execute("UPDATE read_models.deal_activity SET seq = 0 WHERE kind IN ('won', 'lost')")


def downgrade() -> None:
    op.execute("DROP TABLE read_models.deal_fold_point")
