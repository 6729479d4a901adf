"""Locks no reader can take or block (issue 23): one empty table per lock in schema
`coordination`, taken with LOCK TABLE ... IN EXCLUSIVE MODE by the projection worker and rebuild
(projection_sales), the ledger's extender (ledger) and the active relay (relay). Advisory locks
were open to every role: a BI login holding pg_advisory_lock(hashtext('dealtrail.ledger')) hung
the audit digests. BI has no USAGE on this schema, so it cannot name, lock or wait on these
tables; EXCLUSIVE mode does not conflict with the ACCESS SHARE a catalog function might take.
A relation lock assigns no transaction id (as the advisory locks did not), so a transaction
holding one before its first write is never waited on by the log reader's xmin rule.
`coordination.migrate` is made by infra.migrate itself, before any migration runs. DDL frozen.

Revision ID: 0023
Revises: 0022
"""
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

LOCKS = ("projection_sales", "ledger", "relay")


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS coordination")
    op.execute("COMMENT ON SCHEMA coordination IS 'Empty tables the services lock to take turns; "
               "only the owner and dealtrail_app may use it.'")
    op.execute("CREATE TABLE IF NOT EXISTS coordination.migrate ()")
    op.execute("GRANT USAGE ON SCHEMA coordination TO dealtrail_app")
    for name in LOCKS:
        op.execute(f"CREATE TABLE coordination.{name} ()")
        op.execute(f"GRANT UPDATE ON coordination.{name} TO dealtrail_app")  # what EXCLUSIVE mode asks


def downgrade() -> None:
    for name in LOCKS:
        op.execute(f"DROP TABLE coordination.{name}")
    op.execute("REVOKE USAGE ON SCHEMA coordination FROM dealtrail_app")
