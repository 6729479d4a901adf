"""deal.updated: deal_current shows the expected close date and the custom fields.

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE read_models.deal_current ADD COLUMN expected_close_date date;
        ALTER TABLE read_models.deal_current ADD COLUMN fields jsonb NOT NULL DEFAULT '{}'::jsonb;
        ALTER TABLE read_models.deal_current ALTER COLUMN fields DROP DEFAULT;
        COMMENT ON COLUMN read_models.deal_current.expected_close_date IS
          'Expected close date (deal.created, then the latest deal.updated); the forecast places open deals in periods by it.';
        COMMENT ON COLUMN read_models.deal_current.fields IS
          'Custom fields (deal.updated): at most 50 keys, values text, number or boolean.';
        CREATE INDEX deal_current_expected_close_date_idx ON read_models.deal_current (expected_close_date);
        UPDATE read_models.deal_current d SET expected_close_date = (e.data->>'expected_close_date')::date
        FROM events.event e
        WHERE e.deal_id = d.deal_id AND e.type = 'deal.created' AND e.data ? 'expected_close_date';
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE read_models.deal_current DROP COLUMN expected_close_date, DROP COLUMN fields")
