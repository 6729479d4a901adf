"""Default target conversions per stage (funnel leakage flags).

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        UPDATE read_models.pipeline_stage s SET target_conversion = v.target
        FROM (VALUES ('lead', 0.60), ('contacted', 0.60), ('needs_analysis', 0.60),
                     ('proposal', 0.50), ('negotiation', 0.50)) AS v(stage, target)
        WHERE s.pipeline = 'default' AND s.stage = v.stage AND s.target_conversion IS NULL""")


def downgrade() -> None:
    op.execute("UPDATE read_models.pipeline_stage SET target_conversion = NULL WHERE pipeline = 'default'")
