"""The target rule defined once: SQL functions (projections.tables.declared.FUNCTIONS) that the
target_attainment view, the API and the watcher evaluate, with the deviation threshold from
read_models.loop_settings instead of a hard-coded 0.8/1.2.

Revision ID: 0012
Revises: 0011
"""
from alembic import op

from projections.tables.declared import FUNCTIONS, VIEWS, grants

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE read_models.loop_settings (name text PRIMARY KEY, value text NOT NULL);
        COMMENT ON TABLE read_models.loop_settings IS 'Settings the read-model views use, written from the configuration by migrate, up and watch.';
        COMMENT ON COLUMN read_models.loop_settings.name IS 'Setting name (deviation_threshold).';
        COMMENT ON COLUMN read_models.loop_settings.value IS 'Its value, as configured (DEALTRAIL_DEVIATION_THRESHOLD).';
        INSERT INTO read_models.loop_settings VALUES ('deviation_threshold', '0.2');
    """)
    for statement in grants("loop_settings"):
        op.execute(statement)
    for function in FUNCTIONS:
        op.execute(function)
    for view in VIEWS:
        if view.name == "target_attainment":
            for statement in view.statements():
                op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE read_models.loop_settings CASCADE")
