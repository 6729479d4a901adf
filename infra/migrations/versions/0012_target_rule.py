"""The target rule defined once: SQL functions (projections.tables.FUNCTIONS) that the
target_attainment view, the API and the watcher evaluate, with the deviation threshold from
read_models.loop_settings instead of a hard-coded 0.8/1.2.

Frozen (issue 24): the statements below are what this revision sent when it was built from
projections.tables (FUNCTIONS, the target_attainment view, grants);
a migration is history and no longer follows today's code.

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = (
    (
        "\n"
        "        CREATE TABLE read_models.loop_settings (name text PRIMARY KEY, value text NOT NULL);\n"
        "        COMMENT ON TABLE read_models.loop_settings IS 'Settings the read-model views use, written "
        "from the configuration by migrate, up and watch.';\n"
        "        COMMENT ON COLUMN read_models.loop_settings.name IS 'Setting name (deviation_threshold).';\n"
        "        COMMENT ON COLUMN read_models.loop_settings.value IS 'Its value, as configured "
        "(DEALTRAIL_DEVIATION_THRESHOLD).';\n"
        "        INSERT INTO read_models.loop_settings VALUES ('deviation_threshold', '0.2');\n"
        "    "
    ),
    "GRANT SELECT ON read_models.loop_settings TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.loop_settings TO dealtrail_app",
    (
        "CREATE OR REPLACE FUNCTION read_models.elapsed_fraction(period_start date, period_end date, at "
        "timestamptz)\n"
        "RETURNS numeric LANGUAGE sql IMMUTABLE AS $$\n"
        "  SELECT least(1.0, greatest(0.0,\n"
        "    extract(epoch FROM at - (period_start::timestamp AT TIME ZONE 'UTC'))\n"
        "    / extract(epoch FROM (period_end::timestamp AT TIME ZONE 'UTC') - (period_start::timestamp AT "
        "TIME ZONE 'UTC'))))::numeric\n"
        "$$"
    ),
    """CREATE OR REPLACE FUNCTION read_models.target_pace(metric text, target numeric, elapsed numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN metric IN ('revenue', 'deals_won', 'new_deals', 'contacts') THEN target * elapsed ELSE target END
$$""",
    (
        "CREATE OR REPLACE FUNCTION read_models.target_status(metric text, actual numeric, pace numeric, "
        "threshold numeric)\n"
        "RETURNS text LANGUAGE sql IMMUTABLE AS $$\n"
        "  SELECT CASE\n"
        "    WHEN actual IS NULL THEN 'on_track'\n"
        "    WHEN metric = 'avg_cycle_days' THEN  -- lower is better\n"
        "      CASE WHEN actual <= pace THEN 'on_track' WHEN actual <= pace * (1 + threshold) THEN "
        "'at_risk' ELSE 'behind' END\n"
        "    ELSE CASE WHEN actual >= pace THEN 'on_track' WHEN actual >= pace * (1 - threshold) THEN "
        "'at_risk' ELSE 'behind' END\n"
        "  END\n"
        "$$"
    ),
    """CREATE OR REPLACE FUNCTION read_models.target_deviates(metric text, actual numeric, pace numeric,
                                                       threshold numeric, elapsed numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT read_models.target_status(metric, actual, pace, threshold) = 'behind' AND elapsed >= 0.25
$$""",
    (
        "CREATE OR REPLACE VIEW read_models.target_attainment AS \n"
        "WITH base AS (\n"
        "  SELECT t.*, a.actual, read_models.elapsed_fraction(t.period_start, t.period_end, now()) AS "
        "elapsed_fraction,\n"
        "         coalesce((SELECT s.value::numeric FROM read_models.loop_settings s\n"
        "                   WHERE s.name = 'deviation_threshold'), 0.2) AS threshold\n"
        "  FROM read_models.targets t JOIN read_models.target_actuals a USING (target_id)\n"
        "), paced AS (\n"
        "  SELECT b.*, read_models.target_pace(b.metric, b.value, b.elapsed_fraction) AS pace FROM base b\n"
        ")\n"
        "SELECT target_id, scope, scope_id, period, metric, value AS target, actual,\n"
        "       CASE WHEN metric = 'avg_cycle_days' THEN value / nullif(actual, 0) ELSE actual / "
        "nullif(value, 0) END AS attainment,\n"
        "       elapsed_fraction, pace, read_models.target_status(metric, actual, pace, threshold) AS status,\n"
        "       read_models.target_deviates(metric, actual, pace, threshold, elapsed_fraction) AS deviation\n"
        "FROM paced"
    ),
    (
        "COMMENT ON VIEW read_models.target_attainment IS 'Per target: actual, target, attainment "
        "(actual/target; target/actual for avg_cycle_days), elapsed fraction of the period, pace (target x "
        "elapsed fraction for cumulative metrics, else the target), status on_track / at_risk (within the "
        "deviation threshold of pace) / behind, and whether it deviates (behind after a quarter of the "
        "period: the watcher opens a review). Evaluated at query time with the functions target_pace, "
        "target_status, target_deviates — the one definition the API and the watcher use too.'"
    ),
    "COMMENT ON COLUMN read_models.target_attainment.target_id IS 'The target.'",
    "COMMENT ON COLUMN read_models.target_attainment.scope IS 'rep, team or company.'",
    "COMMENT ON COLUMN read_models.target_attainment.scope_id IS 'Who it concerns.'",
    "COMMENT ON COLUMN read_models.target_attainment.period IS '2026-11, 2026-Q4 or 2026.'",
    "COMMENT ON COLUMN read_models.target_attainment.metric IS 'The metric.'",
    "COMMENT ON COLUMN read_models.target_attainment.target IS 'The target value in force.'",
    "COMMENT ON COLUMN read_models.target_attainment.actual IS 'Actual value so far.'",
    (
        "COMMENT ON COLUMN read_models.target_attainment.attainment IS 'actual / target (target / actual "
        "for avg_cycle_days).'"
    ),
    "COMMENT ON COLUMN read_models.target_attainment.elapsed_fraction IS 'Share of the period elapsed (0 to 1).'",
    (
        "COMMENT ON COLUMN read_models.target_attainment.pace IS 'Where the metric should be by now: "
        "target x elapsed_fraction for cumulative metrics, else the target.'"
    ),
    (
        "COMMENT ON COLUMN read_models.target_attainment.status IS 'on_track, at_risk (within the "
        "deviation threshold of pace) or behind.'"
    ),
    (
        "COMMENT ON COLUMN read_models.target_attainment.deviation IS 'Behind after at least a quarter of "
        "the period: a deviation review is due.'"
    ),
)

DOWNGRADE = (
    "DROP TABLE read_models.loop_settings CASCADE",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
