"""Views' columns are commented too (texts from projections.tables.declared; columns a later revision
adds are commented by that revision).

Revision ID: 0009
Revises: 0008
"""
from alembic import op
from sqlalchemy import text

from projections.tables.declared import VIEWS

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    for view in VIEWS:
        present = set(conn.execute(text(
            "SELECT c.column_name FROM information_schema.columns c JOIN information_schema.views v "
            "USING (table_schema, table_name) WHERE c.table_schema = 'read_models' AND c.table_name = :v"),
            {"v": view.name}).scalars())
        if not present:
            continue  # a view a later revision creates (0015 turns tables into views)
        for statement in view.comments(columns=present):
            op.execute(statement)


def downgrade() -> None:
    pass  # comments only
