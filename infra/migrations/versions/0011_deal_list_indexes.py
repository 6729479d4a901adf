"""Indexes for the deal list's sorts and customer filter (keyset pages start in the index).

Revision ID: 0011
Revises: 0010
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = {
    "deal_current_created_at_deal_id_idx": "(created_at, deal_id)",
    "deal_current_stage_entered_at_deal_id_idx": "(stage_entered_at, deal_id)",
    "deal_current_last_activity_at_deal_id_idx": "(last_activity_at, deal_id)",
    "deal_current_current_amount_deal_id_idx": "(current_amount, deal_id)",
    "deal_current_current_amount_desc_idx": "(current_amount DESC NULLS LAST, deal_id DESC)",
    "deal_current_customer_id_idx": "(customer_id)",
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON read_models.deal_current {columns}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX read_models.{name}")
