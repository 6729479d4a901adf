"""deal_fold_point.point's comment names the module that stores it now (projections.deals.points;
it was projections.points before the read side was organised by concept). DDL frozen.

Revision ID: 0024
Revises: 0023
"""
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_COMMENT = ("COMMENT ON COLUMN read_models.deal_fold_point.point IS 'The deal''s folded state and row counters, "
            "as {module} stores them (JSON text).'")


def upgrade() -> None:
    op.execute(_COMMENT.format(module="projections.deals.points"))


def downgrade() -> None:
    op.execute(_COMMENT.format(module="projections.points"))
