"""Column orders of the deal-level read-model tables (the tuple order derive() produces)."""
import re

CURRENT = (
    "deal_id", "title", "customer_id", "customer_name", "segment", "region", "owner_id", "team_id",
    "created_owner_id", "created_team_id", "source_channel", "pipeline", "stage", "status",
    "created_at", "stage_entered_at", "last_activity_at", "expected_amount", "latest_quote_amount",
    "signed_amount", "current_amount", "currency", "closed_at", "lost_reason", "contacts_count",
    "last_contact_at", "furthest_stage_index", "entered_stages", "version", "last_position",
)
DEAL_TABLES = {
    "deal_stage_history": ("deal_id", "stage", "visit", "pipeline", "entered_at", "exited_at",
                           "dwell_seconds", "exit_to", "entered_by", "owner_id", "team_id"),
    "deal_amount_history": ("deal_id", "valid_from", "seq", "amount"),
    "deal_activity": ("deal_id", "seq", "kind", "occurred_at", "month", "owner_id", "team_id",
                      "amount", "cycle_days", "score"),
    "funnel_delta": ("deal_id", "seq", "day", "pipeline", "stage", "owner_id", "team_id", "entered",
                     "advanced", "regressed", "lost", "open_delta", "amount_delta"),
    "cycle_time_deal": ("deal_id", "outcome", "owner_id", "team_id", "segment", "pipeline",
                        "created_at", "closed_at", "cycle_days"),
    "feedback": ("deal_id", "seq", "occurred_at", "month", "score", "comment", "source", "owner_id",
                 "team_id"),
}
AGGREGATE_TABLES = ("funnel_daily", "funnel_cohort", "rep_performance_month", "team_performance_month")
# Tables of target: and review: streams (projections.loop), keyed by the stream's id.
LOOP_TABLES = {
    "targets": ("target_id", "scope", "scope_id", "period", "period_start", "period_end", "metric",
                "value", "version", "set_at"),
    "target_history": ("target_id", "version", "value", "set_at"),
    "reviews": ("review_id", "trigger", "scope", "scope_id", "period", "metric", "expected", "actual",
                "notes", "status", "opened_at", "closed_at", "summary", "actions_total", "actions_open",
                "version"),
    "review_actions": ("review_id", "action_id", "title", "owner_id", "due_date", "added_at",
                       "completed_at", "outcome"),
    "pipeline_stage": ("pipeline", "stage", "stage_index", "probability", "stall_after_days",
                       "target_conversion"),
}
LOOP_KEYS = {"targets": ("target:", "target_id"), "target_history": ("target:", "target_id"),
             "reviews": ("review:", "review_id"), "review_actions": ("review:", "review_id"),
             "pipeline_stage": ("pipeline:", "pipeline")}
# What the projection applied per stream, and the events it had to leave out.
BOOKKEEPING_TABLES = {
    "projection_stream": ("projection", "stream_id", "position"),
    "projection_errors": ("projection", "stream_id", "position", "event_id", "type", "error"),
}
SALES_TABLES = ("deal_current", *DEAL_TABLES, *AGGREGATE_TABLES, *LOOP_TABLES, *BOOKKEEPING_TABLES)

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def schema_name(name: str) -> str:
    """A schema name safe to place in SQL (they come from code, never from requests)."""
    if not _NAME.match(name):
        raise ValueError(f"bad schema name {name!r}")
    return name


def rows_of(facts_list, table: str) -> list[tuple]:
    if table == "deal_current":
        return [tuple(f.current[c] for c in CURRENT) for f in facts_list]
    if table == "cycle_time_deal":
        return [f.cycle for f in facts_list if f.cycle is not None]
    attribute = {"deal_stage_history": "visits", "deal_amount_history": "amounts",
                 "deal_activity": "activity", "funnel_delta": "funnel", "feedback": "feedback"}[table]
    return [row for f in facts_list for row in getattr(f, attribute)]


def columns_of(table: str) -> tuple[str, ...]:
    if table == "deal_current":
        return CURRENT
    return DEAL_TABLES.get(table) or LOOP_TABLES.get(table) or BOOKKEEPING_TABLES[table]
