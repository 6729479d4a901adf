"""Every read-model table and view, declared once: its columns, types, keys, indexes and the
comments BI tools show. Migrations are checked against it (tests/integration/test_tables.py),
rebuilds create their fresh tables from it, and COPY takes its column order from it.

The declarations live by concept beside this module (deal_tables, sum_tables, loop_tables,
bookkeeping, history_tables, target_rule, views, grants); this module gathers them in one namespace."""
from projections.tables.base import SCHEMA, TIMESTAMPTZ, cycle_indexes, metadata, recorded_from
from projections.tables.bookkeeping import projection_checkpoint, projection_errors, projection_stream
from projections.tables.deal_tables import (
    cycle_time_deal,
    deal_activity,
    deal_amount_history,
    deal_current,
    deal_fold_point,
    deal_stage_history,
    feedback,
    funnel_delta,
)
from projections.tables.grants import grants
from projections.tables.history_tables import (
    PAST_TABLES,
    SNAPSHOT_KEYS,
    SNAPSHOT_SUMS,
    SNAPSHOT_TABLES,
    VERSIONED_CURRENT,
    VERSIONED_TABLES,
    sums_moment,
    versions_since,
)
from projections.tables.loop_tables import (
    forecast_snapshot,
    loop_settings,
    pipeline_stage,
    review_actions,
    reviews,
    target_history,
    targets,
)
from projections.tables.sum_tables import (
    cycle_time_stage,
    funnel_cohort,
    funnel_cohort_month,
    funnel_cohort_month_entered,
    funnel_day_sums,
    funnel_open_span,
    rep_month_sums,
    team_month_sums,
)
from projections.tables.target_rule import CUMULATIVE_METRICS, FUNCTIONS, MIN_ELAPSED
from projections.tables.views import AGGREGATE_VIEWS, VIEWS, View

__all__ = ["SCHEMA", "TIMESTAMPTZ", "cycle_indexes", "metadata", "recorded_from", "deal_current",
           "deal_stage_history", "deal_amount_history", "cycle_time_deal", "deal_activity", "funnel_delta",
           "feedback", "deal_fold_point", "funnel_day_sums", "rep_month_sums", "team_month_sums", "funnel_cohort",
           "funnel_cohort_month", "funnel_cohort_month_entered", "cycle_time_stage", "funnel_open_span",
           "pipeline_stage", "targets", "target_history", "reviews", "review_actions", "forecast_snapshot",
           "loop_settings", "projection_checkpoint", "projection_stream", "projection_errors",
           "VERSIONED_CURRENT", "VERSIONED_TABLES", "PAST_TABLES", "SNAPSHOT_SUMS", "SNAPSHOT_KEYS",
           "SNAPSHOT_TABLES", "sums_moment", "versions_since", "CUMULATIVE_METRICS", "MIN_ELAPSED", "FUNCTIONS",
           "grants", "AGGREGATE_VIEWS", "VIEWS", "View"]
