"""The read models as of a recorded moment, as relations a report reads in place of its tables.

Rows are bitemporal (projections.tables.declared.PAST_TABLES): a versioned table as of moment M is its
rows with recorded_from <= M plus its `_past` versions with recorded_from <= M < recorded_to.
The roll-ups derived from them are computed from those rows with the same SQL the projection
refreshes them with; the sums behind the cohort funnel and the performance views are read at the
newest snapshot before the moment plus the change since (projections.sums.snapshots; DIRECT keeps their
definition over every row). Tables without versions (pipeline definitions, targets) are read as
they are now."""
from dataclasses import dataclass
from datetime import datetime

from projections.sums import snapshots
from projections.sums.rollups import CYCLE_STAGE_SELECT, OPEN_SPANS_SELECT
from projections.sums.sums_sql import MONTHS_BY, MONTHS_SELECT
from projections.tables.declared import AGGREGATE_VIEWS, SCHEMA, SNAPSHOT_SUMS, VERSIONED_CURRENT, VERSIONED_TABLES
from projections.tables.groups import columns_of

_COHORT_KEY = ("pipeline", "owner_id", "team_id", "segment")
_VIEWS = {view.name: view for view in AGGREGATE_VIEWS}
_SUMS_OF_VIEW = {"rep_performance_month": "rep_month_sums", "team_performance_month": "team_month_sums"}


@dataclass(frozen=True)
class AsOf:
    """The read models as they were at recorded time `moment`."""
    moment: datetime

    def relation(self, table: str) -> str:
        """SQL for `table` as of the moment: a table name or a parenthesized query (use an alias)."""
        if table in VERSIONED_TABLES:
            return f"({self._versions(table)})"
        if table in SNAPSHOT_SUMS:
            return f"({snapshots.relation(table, self._at())})"
        builder = _DERIVED.get(table)
        return f"({builder(self)})" if builder else f"{SCHEMA}.{table}"

    def _versions(self, table: str) -> str:
        columns = ", ".join(VERSIONED_CURRENT if table == "deal_current" else columns_of(table))
        at = self._at()
        return (f"SELECT {columns} FROM {SCHEMA}.{table} WHERE recorded_from <= {at} UNION ALL "
                f"SELECT {columns} FROM {SCHEMA}.{table}_past WHERE recorded_from <= {at} AND recorded_to > {at}")

    def _cycle_stage(self) -> str:
        return CYCLE_STAGE_SELECT.format(cycle=self.relation("cycle_time_deal"),
                                         history=self.relation("deal_stage_history"),
                                         key_filter_c="true", key_filter_h="true")

    def _open_spans(self) -> str:
        return OPEN_SPANS_SELECT.format(amounts=self.relation("deal_amount_history"),
                                        current=self.relation("deal_current"),
                                        visits=self.relation("deal_stage_history"),
                                        key_filter_h="true", key_filter_d="true", key_filter_v="true")

    def _cohort(self, bucket: str, entered: bool = False) -> str:
        """funnel_cohort (bucket day) or funnel_cohort_month(_entered) from deal_current as of the moment."""
        day = ("date_trunc('month', d.created_at AT TIME ZONE 'UTC')::date" if bucket == "month"
               else "(d.created_at AT TIME ZONE 'UTC')::date")
        shape = (["e.stage"] if entered else
                 ["d.furthest_stage_index", "d.status", *([] if bucket == "month" else ["d.entered_stages"])])
        source = f"{self.relation('deal_current')} d" + (", unnest(d.entered_stages) AS e(stage)" if entered else "")
        key = ", ".join(f"d.{c}" for c in _COHORT_KEY)
        return (f"SELECT {key}, {day} AS {bucket}, {', '.join(shape)}, count(*) AS deals FROM {source} "
                f"GROUP BY {key}, {day}, {', '.join(shape)}")

    def _at(self) -> str:
        return f"'{self.moment.isoformat()}'::timestamptz"  # a datetime's own text: no input reaches SQL

    def _sums(self, who: str) -> str:
        return MONTHS_SELECT.format(activity=self.relation("deal_activity"),
                                    visits=self.relation("deal_stage_history"), who=who, **MONTHS_BY[who])

    def _performance(self, view: str) -> str:
        sums = _SUMS_OF_VIEW[view]
        return _VIEWS[view].select.replace(f"{SCHEMA}.{sums} s", f"{self.relation(sums)} s")


# The sums as the definition gives them (every versioned row aggregated): what the snapshots
# plus their tail must equal (tests compare them).
DIRECT = {
    "funnel_cohort_month": lambda a: a._cohort("month"),
    "funnel_cohort_month_entered": lambda a: a._cohort("month", entered=True),
    "rep_month_sums": lambda a: a._sums("owner_id"),
    "team_month_sums": lambda a: a._sums("team_id"),
}
_DERIVED = {
    "cycle_time_stage": AsOf._cycle_stage,
    "funnel_open_span": AsOf._open_spans,
    "funnel_cohort": lambda a: a._cohort("day"),
    "rep_performance_month": lambda a: a._performance("rep_performance_month"),
    "team_performance_month": lambda a: a._performance("team_performance_month"),
}
