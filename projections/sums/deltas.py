"""Aggregates kept by deltas. A change of deal-level rows (the rows a write removed and the rows
it added) is summed per aggregate key in Python and added to the sums tables with one upsert
each; keys whose rows are all gone are deleted. The running and derived columns BI reads
(funnel_daily's end-of-day values, open_deals, the ratios) are views over the sums, so a change
on an old day or month rewrites one row, not the key's later history: the cost of a write
depends on its rows, not on the size of the log. `recompute` is the set-based full build that
the sums always equal (a rebuild runs it after its bulk COPY)."""
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal, localcontext

from sqlalchemy import Connection

from infra.array_text import array_params, array_text
from projections.deals.rows import ActivityRow, FunnelDelta, StageVisit
from projections.runtime.names import schema_name
from projections.sums import sums_sql as sql
from projections.tables.groups import columns_of

# deal-level tables the aggregates are computed from
SOURCES = ("deal_current", "deal_stage_history", "deal_activity", "funnel_delta")

def apply_changes(conn: Connection, schema: str, removed: Mapping[str, Sequence[tuple]],
                  added: Mapping[str, Sequence[tuple]]) -> None:
    """Add the change from `removed` to `added` deal-level rows (per table; rows in their
    columns' declared order) to every aggregate, in one round trip. Call it once the deal-level
    tables hold the added rows: a rep's team of the month is re-read from deal_activity."""
    with localcontext() as ctx:
        ctx.prec = 100  # exact sums of numerics
        funnel = _funnel(_net(removed, added, "funnel_delta"))
        activity = _net(removed, added, "deal_activity")
        visits = _net(removed, added, "deal_stage_history")
        reps = _months(activity, visits, "owner_id")
        teams = _months(activity, visits, "team_id")
        cohorts = _cohorts(_cohort_keys(removed.get("deal_current", ())), _cohort_keys(added.get("deal_current", ())))
        months, entered = _cohort_months(cohorts)
    rep_keys = sorted({(a.month, a.owner_id) for a in (ActivityRow(*row) for _, row in activity)
                       if a.owner_id is not None})
    batch = _Batch()
    batch.write("f", sql.FUNNEL_UPSERT, sql.FUNNEL_GONE, sql.FUNNEL_NAMES, funnel, lambda v: v[6] < 0)
    for p, table, who, sums in (("r", "rep_month_sums", "owner_id", reps), ("m", "team_month_sums", "team_id", teams)):
        batch.write(p, *sql.month_statements(table, who, p), ("month", "who", *sql.MONTH_COLUMNS), sums,
                    lambda v: v[0] < 0 or (v[0] == 0 and v[10] != 0))
    if rep_keys:
        batch.add(sql.REP_TEAM, array_params("t", ("month", "who"), rep_keys))
    # entered_stages as a text[] literal element (rows differ in length: no 2-D array parameter)
    batch.write("c", sql.COHORT_UPSERT, sql.COHORT_GONE, sql.COHORT_NAMES,
                {(*key[:-1], array_text(key[-1])): n for key, n in cohorts.items()}, lambda v: v[0] < 0)
    batch.write("cm", *_COHORT_MONTH, months, lambda v: v[0] < 0)
    batch.write("ce", *_ENTERED, entered, lambda v: v[0] < 0)
    if batch.statements:
        conn.exec_driver_sql("".join(batch.statements).format(s=schema_name(schema)), batch.params)


class _Batch:
    """Statements and their array parameters, sent as one round trip."""

    def __init__(self):
        self.statements: list[str] = []
        self.params: dict[str, str] = {}

    def add(self, statement: str, params: dict[str, str]) -> None:
        self.statements.append(statement)
        self.params.update(params)

    def write(self, prefix: str, upsert: str, gone: str, names: Sequence[str], sums: dict, emptied) -> None:
        """Upsert the sums; delete the keys a decrease may have emptied (only those: each is an
        index probe)."""
        ordered = _ordered(sums)
        rows = [(*key, *values) for key, values in ordered]
        if rows:
            self.add(upsert, array_params(prefix, names, rows))
        candidates = [row for row, (_, values) in zip(rows, ordered) if emptied(values)]
        if candidates:
            self.add(gone, array_params(prefix + "g", names, candidates))


def _net(removed: Mapping[str, Sequence[tuple]], added: Mapping[str, Sequence[tuple]],
         table: str) -> list[tuple[int, tuple]]:
    """(sign, row) for the rows of `table` that changed: a row both removed and added cancels."""
    counts = Counter(map(tuple, added.get(table, ())))
    counts.subtract(map(tuple, removed.get(table, ())))
    return [(n, row) for row, n in counts.items() if n]


def _ordered(sums: dict) -> list:
    """Keys in one order for every writer: concurrent workers lock shared rows in the same order."""
    return sorted(sums.items(), key=lambda item: repr(item[0]))


def _funnel(rows: list[tuple[int, tuple]]) -> dict[tuple, list]:
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, 0, Decimal(0), 0])
    for n, row in rows:
        r = FunnelDelta(*row)
        _add(sums[(r.day, r.pipeline, r.stage, r.owner_id, r.team_id)], n,
             (r.entered, r.advanced, r.regressed, r.lost, r.open_delta, r.amount_delta, 1))
    return _changed(sums)


def _months(activity: list[tuple[int, tuple]], visits: list[tuple[int, tuple]], who: str) -> dict[tuple, list]:
    """(month, owner or team) -> the change of each MONTH_COLUMNS sum (projections.sums.sums_sql)."""
    sums: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), 0, 0, Decimal(0), 0, 0, 0, 0, 0, 0])
    for n, row in activity:
        a = ActivityRow(*row)
        if getattr(a, who) is not None:
            _add(sums[(a.month, getattr(a, who))], n, _activity_sums(a))
    for n, row in visits:  # open_delta: +1 in the month a visit is entered, -1 in the month it is left
        v = StageVisit(*row)
        if getattr(v, who) is not None:
            sums[(_month(v.entered_at), getattr(v, who))][10] += n
            if v.exited_at is not None:
                sums[(_month(v.exited_at), getattr(v, who))][10] -= n
    return _changed(sums)


def _activity_sums(a: ActivityRow) -> tuple:
    """One deal_activity row's part of each MONTH_COLUMNS sum (projections.sums.sums_sql)."""
    won, feedback = a.kind == "won", a.kind == "feedback"
    return (1, (a.amount or 0) if won else 0, int(won), int(a.kind == "lost"), _numeric(a.cycle_days) if won else 0,
            int(a.kind == "contact"), int(a.kind == "quote"), int(a.kind == "created"),
            (a.score or 0) if feedback else 0, int(feedback), 0)


def _add(total: list, n: int, values: Sequence) -> None:
    for i, value in enumerate(values):
        total[i] += n * value


def _numeric(value: float | None) -> Decimal:
    """float8::numeric as PostgreSQL casts it (15 significant digits), so sums are the same."""
    return Decimal(0) if value is None else Decimal(f"{value:.15g}")


def _month(at: datetime) -> date:
    at = at.astimezone(timezone.utc)
    return date(at.year, at.month, 1)


def _cohort_keys(rows: Sequence[tuple]) -> Counter:
    """funnel_cohort key of each deal_current row: its UTC creation day and shape."""
    columns = columns_of("deal_current")
    out: Counter = Counter()
    for row in rows:
        d = dict(zip(columns, row))
        out[(d["pipeline"], d["created_at"].astimezone(timezone.utc).date(), d["owner_id"], d["team_id"],
             d["segment"], d["furthest_stage_index"], d["status"], tuple(d["entered_stages"]))] += 1
    return out


def _cohorts(before: Counter, after: Counter) -> dict[tuple, list]:
    after.subtract(before)
    return {key: [n] for key, n in after.items() if n}


_COHORT_MONTH = sql.deals_statements("funnel_cohort_month", "cm", sql.COHORT_MONTH_KEY)
_ENTERED = sql.deals_statements("funnel_cohort_month_entered", "ce", sql.ENTERED_KEY)


def _cohort_months(cohorts: dict[tuple, list]) -> tuple[dict[tuple, list], dict[tuple, list]]:
    """The change of funnel_cohort_month and funnel_cohort_month_entered from the change of
    funnel_cohort: each day's deals counted in its month (and in each stage they entered)."""
    months: Counter = Counter()
    entered: Counter = Counter()
    for (pipeline, day, owner, team, segment, furthest, status, stages), (n,) in cohorts.items():
        month = day.replace(day=1)
        months[(pipeline, month, owner, team, segment, furthest, status)] += n
        for stage in stages:
            entered[(pipeline, month, owner, team, segment, stage)] += n
    return ({key: [n] for key, n in months.items() if n}, {key: [n] for key, n in entered.items() if n})


def _changed(sums: dict[tuple, list]) -> dict[tuple, list]:
    return {key: total for key, total in sums.items() if any(total)}


def recompute(conn: Connection, schema: str) -> None:
    """Every aggregate from the deal-level tables, set-based (a rebuild, after its bulk COPY)."""
    s = schema_name(schema)
    conn.exec_driver_sql(sql.RECOMPUTE.format(s=s)
                         + sql.MONTHS.format(s=s, table="rep_month_sums", who="owner_id", **sql.MONTHS_BY["owner_id"])
                         + sql.MONTHS.format(s=s, table="team_month_sums", who="team_id", **sql.MONTHS_BY["team_id"]))
