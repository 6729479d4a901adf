"""Views as declared in projections.tables: their columns are commented too.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

from projections.tables import VIEWS, grants

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for view in VIEWS:
        for statement in [*view.statements(), *grants(view.name, view=True)]:
            op.execute(statement)


def downgrade() -> None:
    pass  # comments only
