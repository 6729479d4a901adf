"""The target business rule as SQL functions, defined once (migrations create them)."""

# The target rule (SPEC §4), defined once: the target_attainment view, GET /v1/targets and
# `dealtrail watch` all evaluate these functions.
CUMULATIVE_METRICS = ("revenue", "deals_won", "new_deals", "contacts")
MIN_ELAPSED = "0.25"  # deviations are judged after a quarter of the period
FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION read_models.elapsed_fraction(period_start date, period_end date, at timestamptz)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT least(1.0, greatest(0.0,
    extract(epoch FROM at - (period_start::timestamp AT TIME ZONE 'UTC'))
    / extract(epoch FROM (period_end::timestamp AT TIME ZONE 'UTC') - \
(period_start::timestamp AT TIME ZONE 'UTC'))))::numeric
$$""",
    f"""CREATE OR REPLACE FUNCTION read_models.target_pace(metric text, target numeric, elapsed numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN metric IN ({", ".join(f"'{m}'" for m in CUMULATIVE_METRICS)}) THEN target * elapsed ELSE target END
$$""",
    """CREATE OR REPLACE FUNCTION read_models.target_status(metric text, actual numeric, pace numeric, \
threshold numeric)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN actual IS NULL THEN 'on_track'
    WHEN metric = 'avg_cycle_days' THEN  -- lower is better
      CASE WHEN actual <= pace THEN 'on_track' WHEN actual <= pace * (1 + threshold) THEN 'at_risk' ELSE 'behind' END
    ELSE CASE WHEN actual >= pace THEN 'on_track' WHEN actual >= pace * (1 - threshold) THEN 'at_risk' ELSE 'behind' END
  END
$$""",
    f"""CREATE OR REPLACE FUNCTION read_models.target_deviates(metric text, actual numeric, pace numeric,
                                                       threshold numeric, elapsed numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT read_models.target_status(metric, actual, pace, threshold) = 'behind' AND elapsed >= {MIN_ELAPSED}
$$""",
)
