"""Aggregates kept by deltas. A change of deal-level rows (the rows a write removed and the rows
it added) is summed per aggregate key in Python and added to the sums tables with one upsert
each; keys whose rows are all gone are deleted. The running and derived columns BI reads
(funnel_daily's end-of-day values, open_deals, the ratios) are views over the sums, so a change
on an old day or month rewrites one row, not the key's later history: the cost of a write
depends on its rows, not on the size of the log. `recompute` is the set-based full build that
the sums always equal (a rebuild runs it after its bulk COPY)."""
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal, localcontext

from sqlalchemy import Connection

from projections.derive import ActivityRow, FunnelDelta, StageVisit
from projections.schema import columns_of, schema_name

# deal-level tables the aggregates are computed from
SOURCES = ("deal_current", "deal_stage_history", "deal_activity", "funnel_delta")

_FUNNEL_UPSERT = """
INSERT INTO {s}.funnel_day_sums AS t (day, pipeline, stage, owner_id, team_id, entered, advanced, regressed,
    lost, open_delta, amount_delta, deltas)
SELECT * FROM unnest(%(f_day)s::date[], %(f_pipeline)s::text[], %(f_stage)s::text[], %(f_owner)s::text[],
    %(f_team)s::text[], %(f_entered)s::int[], %(f_advanced)s::int[], %(f_regressed)s::int[], %(f_lost)s::int[],
    %(f_open)s::int[], %(f_amount)s::numeric[], %(f_deltas)s::int[])
ON CONFLICT (day, pipeline, stage, owner_id, team_id) DO UPDATE SET
    entered = t.entered + excluded.entered, advanced = t.advanced + excluded.advanced,
    regressed = t.regressed + excluded.regressed, lost = t.lost + excluded.lost,
    open_delta = t.open_delta + excluded.open_delta, amount_delta = t.amount_delta + excluded.amount_delta,
    deltas = t.deltas + excluded.deltas;
"""
# Rows emptied by a decrease go. Each candidate key is probed through its index (the LIMIT keeps
# the lateral a per-key probe: a join could scan the whole table for its few empty rows).
_FUNNEL_GONE = """
DELETE FROM {s}.funnel_day_sums WHERE ctid = ANY(ARRAY(
    SELECT x.ctid FROM unnest(%(fg_day)s::date[], %(fg_pipeline)s::text[], %(fg_stage)s::text[],
        %(fg_owner)s::text[], %(fg_team)s::text[]) AS k(day, pipeline, stage, owner_id, team_id)
    CROSS JOIN LATERAL (
        SELECT t.ctid FROM {s}.funnel_day_sums t
        WHERE t.day = k.day AND t.pipeline = k.pipeline AND t.stage = k.stage
          AND t.owner_id IS NOT DISTINCT FROM k.owner_id AND t.team_id IS NOT DISTINCT FROM k.team_id
          AND t.deltas = 0 LIMIT 1) x));
"""

_FUNNEL_NAMES = ("day", "pipeline", "stage", "owner", "team", "entered", "advanced", "regressed", "lost", "open",
                 "amount", "deltas")
_COHORT_NAMES = ("pipeline", "day", "owner", "team", "segment", "furthest", "status", "stages", "deals")
_MONTH_COLUMNS = ("activities", "revenue_won", "deals_won", "deals_lost", "cycle_days_sum", "contacts", "quotes",
                  "new_deals", "csat_sum", "csat_count", "open_delta")
_MONTH_TYPES = ("int", "numeric", "int", "int", "numeric", "int", "int", "int", "int", "int", "int")

_MONTH_UPSERT = """
INSERT INTO {s}.{table} AS t (month, {who}, {columns})
SELECT {values} FROM unnest(%({p}_month)s::date[], %({p}_who)s::text[], {arrays}) AS k(month, who, {columns})
ON CONFLICT (month, {who}) DO UPDATE SET {sums};
"""
_MONTH_GONE = """
DELETE FROM {s}.{table} WHERE ctid = ANY(ARRAY(
    SELECT x.ctid FROM unnest(%({p}g_month)s::date[], %({p}g_who)s::text[]) AS k(month, who)
    CROSS JOIN LATERAL (
        SELECT t.ctid FROM {s}.{table} t
        WHERE t.month = k.month AND t.{who} = k.who AND t.activities = 0 AND t.open_delta = 0 LIMIT 1) x));
"""

# The rep's team in their latest activity of the month, re-read for the (month, rep) keys whose
# activity rows changed (one index probe each, the last entry of deal_activity_owner_id_month_occurred_at_idx).
_REP_TEAM = """
UPDATE {s}.rep_month_sums t SET team_id = (
    SELECT a.team_id FROM {s}.deal_activity a WHERE a.owner_id = t.owner_id AND a.month = t.month
    ORDER BY a.occurred_at DESC, a.deal_id DESC, a.seq DESC LIMIT 1)
FROM unnest(%(t_month)s::date[], %(t_who)s::text[]) AS k(month, who)
WHERE t.month = k.month AND t.owner_id = k.who;
"""

_COHORT_UPSERT = """
INSERT INTO {s}.funnel_cohort AS t (pipeline, day, owner_id, team_id, segment, furthest_stage_index, status,
    entered_stages, deals)
SELECT k.pipeline, k.day, k.owner_id, k.team_id, k.segment, k.furthest_stage_index, k.status,
       k.entered_stages::text[], k.deals
FROM unnest(%(c_pipeline)s::text[], %(c_day)s::date[], %(c_owner)s::text[], %(c_team)s::text[],
    %(c_segment)s::text[], %(c_furthest)s::int[], %(c_status)s::text[], %(c_stages)s::text[], %(c_deals)s::int[])
    AS k(pipeline, day, owner_id, team_id, segment, furthest_stage_index, status, entered_stages, deals)
ON CONFLICT (pipeline, day, owner_id, team_id, segment, furthest_stage_index, status, entered_stages)
DO UPDATE SET deals = t.deals + excluded.deals;
"""
_COHORT_GONE = """
DELETE FROM {s}.funnel_cohort WHERE ctid = ANY(ARRAY(
    SELECT x.ctid FROM unnest(%(cg_pipeline)s::text[], %(cg_day)s::date[], %(cg_owner)s::text[],
        %(cg_team)s::text[], %(cg_segment)s::text[], %(cg_furthest)s::int[], %(cg_status)s::text[],
        %(cg_stages)s::text[]) AS k(pipeline, day, owner_id, team_id, segment, furthest_stage_index, status,
                                    entered_stages)
    CROSS JOIN LATERAL (
        SELECT t.ctid FROM {s}.funnel_cohort t
        WHERE t.pipeline = k.pipeline AND t.day = k.day AND t.owner_id IS NOT DISTINCT FROM k.owner_id
          AND t.team_id IS NOT DISTINCT FROM k.team_id AND t.segment IS NOT DISTINCT FROM k.segment
          AND t.furthest_stage_index = k.furthest_stage_index AND t.status = k.status
          AND t.entered_stages = k.entered_stages::text[] AND t.deals = 0 LIMIT 1) x));
"""

# The cohort funnel per creation month (funnel_cohort summed by month): the same change, by month.
_COHORT_MONTH_UPSERT = """
INSERT INTO {s}.funnel_cohort_month AS t (pipeline, month, owner_id, team_id, segment, furthest_stage_index, status,
    deals)
SELECT * FROM unnest(%(cm_pipeline)s::text[], %(cm_month)s::date[], %(cm_owner)s::text[], %(cm_team)s::text[],
    %(cm_segment)s::text[], %(cm_furthest)s::int[], %(cm_status)s::text[], %(cm_deals)s::int[])
ON CONFLICT (pipeline, month, owner_id, team_id, segment, furthest_stage_index, status)
DO UPDATE SET deals = t.deals + excluded.deals;
"""
_COHORT_MONTH_GONE = """
DELETE FROM {s}.funnel_cohort_month WHERE ctid = ANY(ARRAY(
    SELECT x.ctid FROM unnest(%(cmg_pipeline)s::text[], %(cmg_month)s::date[], %(cmg_owner)s::text[],
        %(cmg_team)s::text[], %(cmg_segment)s::text[], %(cmg_furthest)s::int[], %(cmg_status)s::text[])
        AS k(pipeline, month, owner_id, team_id, segment, furthest_stage_index, status)
    CROSS JOIN LATERAL (
        SELECT t.ctid FROM {s}.funnel_cohort_month t
        WHERE t.pipeline = k.pipeline AND t.month = k.month AND t.owner_id IS NOT DISTINCT FROM k.owner_id
          AND t.team_id IS NOT DISTINCT FROM k.team_id AND t.segment IS NOT DISTINCT FROM k.segment
          AND t.furthest_stage_index = k.furthest_stage_index AND t.status = k.status AND t.deals = 0 LIMIT 1) x));
"""
_ENTERED_UPSERT = """
INSERT INTO {s}.funnel_cohort_month_entered AS t (pipeline, month, owner_id, team_id, segment, stage, deals)
SELECT * FROM unnest(%(ce_pipeline)s::text[], %(ce_month)s::date[], %(ce_owner)s::text[], %(ce_team)s::text[],
    %(ce_segment)s::text[], %(ce_stage)s::text[], %(ce_deals)s::int[])
ON CONFLICT (pipeline, month, owner_id, team_id, segment, stage) DO UPDATE SET deals = t.deals + excluded.deals;
"""
_ENTERED_GONE = """
DELETE FROM {s}.funnel_cohort_month_entered WHERE ctid = ANY(ARRAY(
    SELECT x.ctid FROM unnest(%(ceg_pipeline)s::text[], %(ceg_month)s::date[], %(ceg_owner)s::text[],
        %(ceg_team)s::text[], %(ceg_segment)s::text[], %(ceg_stage)s::text[])
        AS k(pipeline, month, owner_id, team_id, segment, stage)
    CROSS JOIN LATERAL (
        SELECT t.ctid FROM {s}.funnel_cohort_month_entered t
        WHERE t.pipeline = k.pipeline AND t.month = k.month AND t.owner_id IS NOT DISTINCT FROM k.owner_id
          AND t.team_id IS NOT DISTINCT FROM k.team_id AND t.segment IS NOT DISTINCT FROM k.segment
          AND t.stage = k.stage AND t.deals = 0 LIMIT 1) x));
"""
_COHORT_MONTH_NAMES = ("pipeline", "month", "owner", "team", "segment", "furthest", "status", "deals")
_ENTERED_NAMES = ("pipeline", "month", "owner", "team", "segment", "stage", "deals")


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
    batch.write("f", _FUNNEL_UPSERT, _FUNNEL_GONE, _FUNNEL_NAMES, funnel, lambda v: v[6] < 0)
    for p, table, who, sums in (("r", "rep_month_sums", "owner_id", reps), ("m", "team_month_sums", "team_id", teams)):
        batch.write(p, *_month_statements(table, who, p), ("month", "who", *_MONTH_COLUMNS), sums,
                    lambda v: v[0] < 0 or (v[0] == 0 and v[10] != 0))
    if rep_keys:
        batch.add(_REP_TEAM, _columns("t", ("month", "who"), rep_keys))
    batch.write("c", _COHORT_UPSERT, _COHORT_GONE, _COHORT_NAMES,
                {(*key[:-1], _text_array(key[-1])): n for key, n in cohorts.items()}, lambda v: v[0] < 0)
    batch.write("cm", _COHORT_MONTH_UPSERT, _COHORT_MONTH_GONE, _COHORT_MONTH_NAMES, months, lambda v: v[0] < 0)
    batch.write("ce", _ENTERED_UPSERT, _ENTERED_GONE, _ENTERED_NAMES, entered, lambda v: v[0] < 0)
    if batch.statements:
        conn.exec_driver_sql("".join(batch.statements).format(s=schema_name(schema)), batch.params)


class _Batch:
    """Statements and their array parameters, sent as one round trip."""

    def __init__(self):
        self.statements: list[str] = []
        self.params: dict[str, list] = {}

    def add(self, statement: str, params: dict[str, list]) -> None:
        self.statements.append(statement)
        self.params.update(params)

    def write(self, prefix: str, upsert: str, gone: str, names: Sequence[str], sums: dict, emptied) -> None:
        """Upsert the sums; delete the keys a decrease may have emptied (only those: each is an
        index probe)."""
        ordered = _ordered(sums)
        rows = [(*key, *values) for key, values in ordered]
        if rows:
            self.add(upsert, _columns(prefix, names, rows))
        candidates = [row for row, (_, values) in zip(rows, ordered) if emptied(values)]
        if candidates:
            self.add(gone, _columns(prefix + "g", names, candidates))


def _net(removed: Mapping[str, Sequence[tuple]], added: Mapping[str, Sequence[tuple]],
         table: str) -> list[tuple[int, tuple]]:
    """(sign, row) for the rows of `table` that changed: a row both removed and added cancels."""
    counts = Counter(map(tuple, added.get(table, ())))
    counts.subtract(map(tuple, removed.get(table, ())))
    return [(n, row) for row, n in counts.items() if n]


def _ordered(sums: dict) -> list:
    """Keys in one order for every writer: concurrent workers lock shared rows in the same order."""
    return sorted(sums.items(), key=lambda item: repr(item[0]))


def _columns(prefix: str, names: Sequence[str], rows: Iterable[tuple]) -> dict[str, list]:
    columns = list(zip(*rows)) or [()] * len(names)
    return {f"{prefix}_{name}": list(values) for name, values in zip(names, columns)}


def _funnel(rows: list[tuple[int, tuple]]) -> dict[tuple, list]:
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, 0, Decimal(0), 0])
    for n, row in rows:
        r = FunnelDelta(*row)
        _add(sums[(r.day, r.pipeline, r.stage, r.owner_id, r.team_id)], n,
             (r.entered, r.advanced, r.regressed, r.lost, r.open_delta, r.amount_delta, 1))
    return _changed(sums)


def _months(activity: list[tuple[int, tuple]], visits: list[tuple[int, tuple]], who: str) -> dict[tuple, list]:
    """(month, owner or team) -> the change of each _MONTH_COLUMNS sum."""
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
    """One deal_activity row's part of each _MONTH_COLUMNS sum."""
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


def _text_array(values: Sequence[str]) -> str:
    """A text[] literal (a per-row array cannot ride in a 2-D array parameter: rows differ in length)."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _changed(sums: dict[tuple, list]) -> dict[tuple, list]:
    return {key: total for key, total in sums.items() if any(total)}


def _month_statements(table: str, who: str, p: str) -> tuple[str, str]:
    # cycle_days_sum is kept with its trailing zeros trimmed: the same numeric whichever rows
    # were added and removed on the way (a division by it then rounds the same)
    upsert = _MONTH_UPSERT.format(
        s="{s}", table=table, who=who, p=p, columns=", ".join(_MONTH_COLUMNS),
        values=", ".join(["k.month", "k.who", *(f"trim_scale(k.{c})" if c == "cycle_days_sum" else f"k.{c}"
                                                 for c in _MONTH_COLUMNS)]),
        arrays=", ".join(f"%({p}_{c})s::{t}[]" for c, t in zip(_MONTH_COLUMNS, _MONTH_TYPES)),
        sums=", ".join(f"{c} = " + (f"trim_scale(t.{c} + excluded.{c})" if c == "cycle_days_sum"
                                    else f"t.{c} + excluded.{c}") for c in _MONTH_COLUMNS))
    return upsert, _MONTH_GONE.format(s="{s}", table=table, who=who, p=p)


_RECOMPUTE = """
DELETE FROM {s}.funnel_day_sums;
INSERT INTO {s}.funnel_day_sums (day, pipeline, stage, owner_id, team_id, entered, advanced, regressed, lost,
    open_delta, amount_delta, deltas)
SELECT day, pipeline, stage, owner_id, team_id, sum(entered), sum(advanced), sum(regressed), sum(lost),
       sum(open_delta), sum(amount_delta), count(*)
FROM {s}.funnel_delta GROUP BY day, pipeline, stage, owner_id, team_id;
DELETE FROM {s}.funnel_cohort;
INSERT INTO {s}.funnel_cohort (pipeline, day, owner_id, team_id, segment, furthest_stage_index, status,
    entered_stages, deals)
SELECT pipeline, (created_at AT TIME ZONE 'UTC')::date, owner_id, team_id, segment, furthest_stage_index, status,
       entered_stages, count(*)
FROM {s}.deal_current GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
"""

# Per month and rep (team) from the deal-level rows (also the as-of relation of the sums tables:
# projections.reports.relations fills {activity} and {visits} with versioned rows).
MONTHS_SELECT = """
SELECT month, {who}, {extra_agg} coalesce(sum(activities), 0)::integer AS activities,
       coalesce(sum(revenue_won), 0) AS revenue_won, coalesce(sum(deals_won), 0)::integer AS deals_won,
       coalesce(sum(deals_lost), 0)::integer AS deals_lost, trim_scale(coalesce(sum(cycle_days_sum), 0)) AS cycle_days_sum,
       coalesce(sum(contacts), 0)::integer AS contacts, coalesce(sum(quotes), 0)::integer AS quotes,
       coalesce(sum(new_deals), 0)::integer AS new_deals, coalesce(sum(csat_sum), 0)::integer AS csat_sum,
       coalesce(sum(csat_count), 0)::integer AS csat_count, coalesce(sum(open_delta), 0)::integer AS open_delta
FROM (
    SELECT a.month, a.{who}, {extra_sel} count(*) AS activities,
           sum(a.amount) FILTER (WHERE a.kind = 'won') AS revenue_won,
           count(*) FILTER (WHERE a.kind = 'won') AS deals_won,
           count(*) FILTER (WHERE a.kind = 'lost') AS deals_lost,
           sum(a.cycle_days::numeric) FILTER (WHERE a.kind = 'won') AS cycle_days_sum,
           count(*) FILTER (WHERE a.kind = 'contact') AS contacts,
           count(*) FILTER (WHERE a.kind = 'quote') AS quotes,
           count(*) FILTER (WHERE a.kind = 'created') AS new_deals,
           sum(a.score) FILTER (WHERE a.kind = 'feedback') AS csat_sum,
           count(*) FILTER (WHERE a.kind = 'feedback') AS csat_count, 0 AS open_delta
    FROM {activity} a WHERE a.{who} IS NOT NULL GROUP BY a.month, a.{who}
    UNION ALL
    SELECT date_trunc('month', m.at AT TIME ZONE 'UTC')::date, m.{who}, {extra_null} 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           sum(m.delta)
    FROM (SELECT v.{who}, v.entered_at AS at, 1 AS delta FROM {visits} v WHERE v.{who} IS NOT NULL
          UNION ALL
          SELECT v.{who}, v.exited_at, -1 FROM {visits} v
          WHERE v.{who} IS NOT NULL AND v.exited_at IS NOT NULL) m
    GROUP BY 1, 2) x
GROUP BY month, {who}
HAVING coalesce(sum(activities), 0) <> 0 OR coalesce(sum(open_delta), 0) <> 0"""
_MONTHS = """
DELETE FROM {s}.{table};
INSERT INTO {s}.{table} (month, {who}, {extra_col} activities, revenue_won, deals_won, deals_lost,
    cycle_days_sum, contacts, quotes, new_deals, csat_sum, csat_count, open_delta)
""" + MONTHS_SELECT.replace("{activity}", "{s}.deal_activity").replace("{visits}", "{s}.deal_stage_history") + ";\n"
# The rep's team: in their latest activity of the month.
MONTHS_BY = {
    "owner_id": dict(extra_col="team_id,", extra_sel="(array_agg(a.team_id ORDER BY a.occurred_at DESC, a.deal_id DESC, "
                     "a.seq DESC))[1] AS team_id,", extra_null="NULL,", extra_agg="max(team_id) AS team_id,"),
    "team_id": dict(extra_col="", extra_sel="", extra_null="", extra_agg=""),
}


def recompute(conn: Connection, schema: str) -> None:
    """Every aggregate from the deal-level tables, set-based (a rebuild, after its bulk COPY)."""
    s = schema_name(schema)
    conn.exec_driver_sql(_RECOMPUTE.format(s=s)
                         + _MONTHS.format(s=s, table="rep_month_sums", who="owner_id", **MONTHS_BY["owner_id"])
                         + _MONTHS.format(s=s, table="team_month_sums", who="team_id", **MONTHS_BY["team_id"]))
