"""Aggregates kept by deltas (issue 10): the projection adds each change to per-day and
per-month sums (funnel_day_sums, rep_month_sums, team_month_sums; funnel_cohort gets a unique
key) instead of recomputing every touched key's history. funnel_daily, rep_performance_month and
team_performance_month become views over the sums with the same columns and comments (the
running end-of-day and open-deal values are window sums). The sums are computed here from the
existing deal-level rows.

Revision ID: 0016
Revises: 0015
"""
from alembic import op

from projections.sums import deltas as aggregates
from projections.tables import declared as tables

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SUMS = ("funnel_day_sums", "rep_month_sums", "team_month_sums")
BECOME_VIEWS = ("funnel_daily", "rep_performance_month", "team_performance_month")
DEPENDENT = ("target_attainment", "target_actuals")  # read the performance tables
# deal_activity (owner_id, month, occurred_at, deal_id, seq) replaces (month, owner_id): a rep's
# latest activity of a month is its last entry; funnel_cohort's key becomes unique (an upsert target)
NEW_INDEXES = ("deal_activity_owner_id_month_occurred_at_idx", "funnel_cohort_key_idx")
OLD_INDEXES = ("deal_activity_month_owner_id_idx", "funnel_cohort_pipeline_day_idx")


def _views(names) -> list:
    return [view for view in tables.VIEWS if view.name in names]


def _create_views(names) -> None:
    for view in _views(names):
        for statement in [*view.statements(), *tables.grants(view.name, view=True)]:
            op.execute(statement)


def upgrade() -> None:
    conn = op.get_bind()
    for name in (*DEPENDENT, *BECOME_VIEWS):
        op.execute(f"DROP {'VIEW' if name in DEPENDENT else 'TABLE'} read_models.{name}")
    for index in OLD_INDEXES:
        op.execute(f"DROP INDEX read_models.{index}")
    for name in SUMS:
        tables.metadata.tables[f"{tables.SCHEMA}.{name}"].create(conn)
        for statement in tables.grants(name):
            op.execute(statement)
    for index in NEW_INDEXES:
        next(i for t in tables.metadata.tables.values() for i in t.indexes if i.name == index).create(conn)
    aggregates.recompute(conn, tables.SCHEMA)
    _create_views((*BECOME_VIEWS, *DEPENDENT))


# downgrade: the tables as 0002/0006 declared them, filled from the views
_TABLES = {
    "funnel_daily": ("owner_id", "team_id"),
    "rep_performance_month": ("team_id", "win_rate", "avg_deal_size", "avg_cycle_days", "csat_avg", "sales_velocity"),
    "team_performance_month": ("win_rate", "avg_deal_size", "avg_cycle_days", "csat_avg", "sales_velocity"),
}
_OLD_INDEXES = """
ALTER TABLE read_models.rep_performance_month ADD PRIMARY KEY (month, owner_id);
ALTER TABLE read_models.team_performance_month ADD PRIMARY KEY (month, team_id);
CREATE INDEX funnel_daily_pipeline_stage_owner_id_team_id_day_idx
    ON read_models.funnel_daily (pipeline, stage, owner_id, team_id, day);
CREATE INDEX funnel_daily_day_idx ON read_models.funnel_daily (day);
CREATE INDEX rep_performance_month_team_id_month_idx ON read_models.rep_performance_month (team_id, month);
CREATE INDEX funnel_cohort_pipeline_day_idx ON read_models.funnel_cohort (pipeline, day);
CREATE INDEX deal_activity_month_owner_id_idx ON read_models.deal_activity (month, owner_id);
"""


def downgrade() -> None:
    for name in DEPENDENT:
        op.execute(f"DROP VIEW read_models.{name}")
    for view in _views(BECOME_VIEWS):
        op.execute(f"ALTER VIEW read_models.{view.name} RENAME TO {view.name}_0015")
        op.execute(f"CREATE TABLE read_models.{view.name} AS SELECT * FROM read_models.{view.name}_0015")
        op.execute(f"DROP VIEW read_models.{view.name}_0015")
        for column in view.columns:
            if column not in _TABLES[view.name]:
                op.execute(f"ALTER TABLE read_models.{view.name} ALTER COLUMN {column} SET NOT NULL")
        for statement in [*view.comments(), *tables.grants(view.name)]:
            op.execute(statement.replace("COMMENT ON VIEW", "COMMENT ON TABLE"))
    for name in SUMS:
        op.execute(f"DROP TABLE read_models.{name}")
    for index in NEW_INDEXES:
        op.execute(f"DROP INDEX read_models.{index}")
    op.execute(_OLD_INDEXES)
    _create_views(DEPENDENT)
