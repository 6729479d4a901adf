"""The app role may create schemas: `as_of` reports replay the read models into their own.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO dealtrail_app', "
               "current_database()); END $$")


def downgrade() -> None:
    op.execute("DO $$ BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM dealtrail_app', "
               "current_database()); END $$")
