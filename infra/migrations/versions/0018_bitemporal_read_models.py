"""Bitemporal read models: deal_current, deal_stage_history, deal_amount_history, deal_activity
and cycle_time_deal rows carry recorded_from, and each has a `_past` twin keeping every earlier
version with its recorded range, so a report `as_of` a moment is a query (no replay schema per
moment). The cached `asof_*` replay schemas go. An installation that already holds rows kept no
versions: versions_since says from when they are complete (reports as_of an earlier moment are
refused until `dealtrail rebuild` derives every version from the log). events.event gets an
index on recorded_at (the moment -> position lookup of as_of).

Revision ID: 0018
Revises: 0017
"""
from alembic import op
from sqlalchemy.schema import CreateIndex, CreateTable, SetColumnComment, SetTableComment

from projections.tables import declared as tables

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in tables.VERSIONED_TABLES:
        column = tables.metadata.tables[f"{tables.SCHEMA}.{name}"].c.recorded_from
        op.execute(f"ALTER TABLE read_models.{name} ADD COLUMN recorded_from timestamptz NOT NULL DEFAULT now()")
        op.execute(SetColumnComment(column))
    for table in (*tables.PAST_TABLES, tables.versions_since):
        op.execute(CreateTable(table))
        for index in table.indexes:
            op.execute(CreateIndex(index))
        op.execute(SetTableComment(table))
        for column in table.columns:
            op.execute(SetColumnComment(column))
        for statement in tables.grants(table.name):
            op.execute(statement)
    op.execute("INSERT INTO read_models.versions_since (since) "
               "SELECT now() WHERE EXISTS (SELECT 1 FROM read_models.deal_current)")
    op.execute("CREATE INDEX event_recorded_at_idx ON events.event (recorded_at, position)")
    op.execute("""DO $$ DECLARE s text; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE left(nspname, 5) = 'asof_' LOOP
    EXECUTE 'DROP SCHEMA ' || quote_ident(s) || ' CASCADE';
  END LOOP;
END $$""")


def downgrade() -> None:
    op.execute("DROP INDEX events.event_recorded_at_idx")
    for table in (tables.versions_since, *tables.PAST_TABLES):
        op.execute(f"DROP TABLE read_models.{table.name}")
    for name in tables.VERSIONED_TABLES:
        op.execute(f"ALTER TABLE read_models.{name} DROP COLUMN recorded_from")
