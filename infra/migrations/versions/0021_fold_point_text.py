"""Resume points (read_models.deal_fold_point.point) stored as JSON text, not jsonb: the worker
writes one per deal it touches (~1.7 KB) and only ever reads it back whole, so jsonb's parse into
its binary form on COPY (~50 us a point, about a tenth of a poll's COPY time) bought nothing.
The points keep their content: a text cast of each jsonb value.

Revision ID: 0021
Revises: 0020
"""
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE read_models.deal_fold_point ALTER COLUMN point TYPE text USING point::text")
    op.execute("COMMENT ON COLUMN read_models.deal_fold_point.point IS "
               "'The deal''s folded state and row counters, as projections.points stores them (JSON text).'")


def downgrade() -> None:
    op.execute("ALTER TABLE read_models.deal_fold_point ALTER COLUMN point TYPE jsonb USING point::jsonb")
    op.execute("COMMENT ON COLUMN read_models.deal_fold_point.point IS "
               "'The deal''s folded state and row counters, as projections.points stores them.'")
