"""Resume points of the live projection (read_models.deal_fold_point). deal_activity and
feedback rows are keyed by their event's stream_version (the final close: 0), so a row added
later — even a back-dated contact — leaves the others' keys as a full derivation gives them.
Existing rows keep their old numbers until their deal is derived again (its next event, or
`dealtrail rebuild`); the final close becomes 0 here.

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
    op.execute("COMMENT ON COLUMN read_models.deal_activity.seq IS 'The stream_version of the event behind "
               "the row; 0 for the deal''s final close (won/lost).'")
    op.execute("COMMENT ON COLUMN read_models.feedback.seq IS 'The stream_version of the "
               "deal.feedback_recorded event.'")


def downgrade() -> None:
    op.execute("DROP TABLE read_models.deal_fold_point")
