"""Which read-model tables the sales projection writes, and in which column order (from their
one declaration in projections.tables.declared)."""
from events.streams import Kind
from projections.tables import declared as tables
from projections.tables.declared import SCHEMA, metadata

DEAL_TABLES = ("deal_stage_history", "deal_amount_history", "deal_activity", "funnel_delta",
               "cycle_time_deal", "feedback")
POINT_TABLE = "deal_fold_point"  # the live projection's resume points (rebuilds leave it empty)
# Kept by deltas (projections.sums.deltas; BI reads the sums through the views), and the report
# roll-ups refreshed per key (funnel_cohort_month*, cycle_time_stage, funnel_open_span).
AGGREGATE_TABLES = ("funnel_day_sums", "funnel_cohort", "rep_month_sums", "team_month_sums", "funnel_cohort_month",
                    "funnel_cohort_month_entered", "cycle_time_stage", "funnel_open_span")
AGGREGATE_VIEWS = tuple(view.name for view in tables.AGGREGATE_VIEWS)
# Tables of target:, review: and pipeline: streams (projections.loop.rows), keyed by the stream's id.
LOOP_TABLES = ("targets", "target_history", "reviews", "review_actions", "pipeline_stage")
LOOP_KEYS = {"targets": (Kind.TARGET, "target_id"), "target_history": (Kind.TARGET, "target_id"),
             "reviews": (Kind.REVIEW, "review_id"), "review_actions": (Kind.REVIEW, "review_id"),
             "pipeline_stage": (Kind.PIPELINE, "pipeline")}
# What the projection applied per stream, and the events it had to leave out.
BOOKKEEPING_TABLES = ("projection_stream", "projection_errors")
# Earlier versions of the versioned tables' rows (bitemporal: projections.tables.declared.PAST_TABLES).
PAST_TABLES = tuple(table.name for table in tables.PAST_TABLES)
# The sums at recorded moments (projections.sums.snapshots).
SNAPSHOT_TABLES = (*(table.name for table in tables.SNAPSHOT_TABLES), "sums_moment")
SALES_TABLES = ("deal_current", *DEAL_TABLES, POINT_TABLE, *AGGREGATE_TABLES, *LOOP_TABLES, *BOOKKEEPING_TABLES,
                *PAST_TABLES, "versions_since", *SNAPSHOT_TABLES)
# The ones the sales projection creates and swaps in itself (the runtime keeps the bookkeeping).
OWN_TABLES = tuple(t for t in SALES_TABLES if t not in BOOKKEEPING_TABLES)

def columns_of(table: str) -> tuple[str, ...]:
    """The columns a row of `table` gives, in order: every declared column except the ones
    the database fills itself (server defaults)."""
    return tuple(c.name for c in metadata.tables[f"{SCHEMA}.{table}"].columns if c.server_default is None)


# Which list of a deal's facts (projections.deals.rows.DealFacts) fills each history table.
HISTORY_ROWS = {"deal_stage_history": "visits", "deal_amount_history": "amounts", "deal_activity": "activity",
                "funnel_delta": "funnel", "feedback": "feedback"}

