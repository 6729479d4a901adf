"""The sums behind the cohort funnel and the performance reports as of any recorded moment,
without aggregating the whole versioned history per request.

The projection keeps the sums at recorded moments S (`sums_moment`, one every N log positions)
as versioned rows (`<table>_at`: the key's values over the range of moments they held). The sums
as of a moment T are then those at the newest S <= T plus the change the versioned base rows
went through in (S, T]: every row version that began in it counts +1, every one that ended in it
-1 (the sums are sums of row functions, so this is exact). The rows of that change belong to the
deals with events recorded in (S, T] (a version begins and ends only at its deal's events), so
the tail costs what those events changed, not the log.

An event applied late (recorded at or before a moment already snapshotted: concurrent appenders'
clocks) would make a snapshot stale: writing its versions drops the moments from its recorded
time on (`invalidate`), and later ones are taken again. A rebuild starts with none (the worker
takes them again, oldest first, when it is idle); without one the tail runs from the start."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from projections.runtime.names import schema_name
from projections.tables.declared import SCHEMA, SNAPSHOT_KEYS, metadata

EVERY = 10_000  # log positions between snapshots (the most a report's tail covers)

_SIGNED_CURRENT = """
SELECT {columns}, 1 AS sign, 0 AS k FROM {s}.{table}
WHERE deal_id = ANY(ARRAY(SELECT e.deal_id FROM events.event e WHERE e.recorded_at > {lo} AND e.recorded_at <= {hi}))
  AND recorded_from > {lo} AND recorded_from <= {hi}
UNION ALL
SELECT * FROM (SELECT {columns}, (recorded_from > {lo})::integer - (recorded_to <= {hi})::integer AS sign, 0 AS k
               FROM {s}.{table}_past WHERE recorded_to > {lo} AND recorded_from <= {hi}) p WHERE sign <> 0"""


def _signed(table: str, columns: tuple[str, ...], lo: str, hi: str, s: str) -> str:
    """The versions of `table` that began (+1) or ended (-1) in the recorded range (lo, hi]
    (k: 0, the grid step `build` groups by)."""
    return _SIGNED_CURRENT.format(columns=", ".join(columns), table=table, lo=lo, hi=hi, s=s)


_MONTH_DELTA = """
SELECT a.month, a.{who} AS who, a.k, sum(a.sign) AS activities,
       coalesce(sum(a.sign * a.amount) FILTER (WHERE a.kind = 'won'), 0) AS revenue_won,
       coalesce(sum(a.sign) FILTER (WHERE a.kind = 'won'), 0) AS deals_won,
       coalesce(sum(a.sign) FILTER (WHERE a.kind = 'lost'), 0) AS deals_lost,
       coalesce(sum(a.sign * a.cycle_days::numeric) FILTER (WHERE a.kind = 'won'), 0) AS cycle_days_sum,
       coalesce(sum(a.sign) FILTER (WHERE a.kind = 'contact'), 0) AS contacts,
       coalesce(sum(a.sign) FILTER (WHERE a.kind = 'quote'), 0) AS quotes,
       coalesce(sum(a.sign) FILTER (WHERE a.kind = 'created'), 0) AS new_deals,
       coalesce(sum(a.sign * a.score) FILTER (WHERE a.kind = 'feedback'), 0) AS csat_sum,
       coalesce(sum(a.sign) FILTER (WHERE a.kind = 'feedback'), 0) AS csat_count, 0 AS open_delta
FROM act a WHERE a.{who} IS NOT NULL GROUP BY 1, 2, 3
UNION ALL
SELECT date_trunc('month', m.at AT TIME ZONE 'UTC')::date, m.who, m.k, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, sum(m.delta)
FROM (SELECT v.{who} AS who, v.entered_at AS at, v.sign AS delta, v.k FROM vis v WHERE v.{who} IS NOT NULL
      UNION ALL
      SELECT v.{who}, v.exited_at, -v.sign, v.k FROM vis v WHERE v.{who} IS NOT NULL AND v.exited_at IS NOT NULL) m
GROUP BY 1, 2, 3"""

_COHORT_DELTA = """
SELECT d.pipeline, date_trunc('month', d.created_at AT TIME ZONE 'UTC')::date AS month, d.owner_id, d.team_id,
       d.segment, {shape}, d.k, sum(d.sign) AS deals
FROM cur d{unnest} GROUP BY 1, 2, 3, 4, 5, {shape_positions}"""

# The rep's team in their latest activity of the month as of {at} (what rep_month_sums keeps).
_REP_TEAM_AT = """(
SELECT x.team_id FROM (
    (SELECT a.team_id, a.occurred_at, a.deal_id, a.seq FROM {s}.deal_activity a
     WHERE a.owner_id = {key}.owner_id AND a.month = {key}.month AND a.recorded_from <= {at}
     ORDER BY a.occurred_at DESC, a.deal_id DESC, a.seq DESC LIMIT 1)
    UNION ALL
    (SELECT a.team_id, a.occurred_at, a.deal_id, a.seq FROM {s}.deal_activity_past a
     WHERE a.owner_id = {key}.owner_id AND a.month = {key}.month AND a.recorded_from <= {at} AND a.recorded_to > {at}
     ORDER BY a.occurred_at DESC, a.deal_id DESC, a.seq DESC LIMIT 1)) x
ORDER BY x.occurred_at DESC, x.deal_id DESC, x.seq DESC LIMIT 1)"""


@dataclass(frozen=True)
class Sums:
    """A sums table kept at moments: its key, its summed columns, the change of the versioned
    rows in a recorded range as rows of those (`delta`, reading the relations the sources name,
    per grid step k)."""
    table: str
    key: tuple[str, ...]
    values: tuple[str, ...]
    delta: str
    sources: tuple[str, ...]  # act (deal_activity), vis (deal_stage_history), cur (deal_current)
    kept: tuple[str, ...]  # a key has a row while one of these is not zero
    team: bool = False  # rep_month_sums: the rep's team, re-read for the keys whose activity changed

    def columns(self) -> tuple[str, ...]:
        return (*self.key, *(("team_id",) if self.team else ()), *self.values)

    def nonzero(self, summed: bool = True) -> str:
        return " OR ".join(f"sum({c}) <> 0" if summed else f"{c} <> 0" for c in self.kept)


_MONTH_VALUES = ("activities", "revenue_won", "deals_won", "deals_lost", "cycle_days_sum", "contacts", "quotes",
                 "new_deals", "csat_sum", "csat_count", "open_delta")
_MONTH_KEPT = ("activities", "open_delta")
SUMS = {s.table: s for s in (
    Sums("rep_month_sums", SNAPSHOT_KEYS["rep_month_sums"], _MONTH_VALUES, _MONTH_DELTA.replace("{who}", "owner_id"),
         ("act", "vis"), _MONTH_KEPT, team=True),
    Sums("team_month_sums", SNAPSHOT_KEYS["team_month_sums"], _MONTH_VALUES, _MONTH_DELTA.replace("{who}", "team_id"),
         ("act", "vis"), _MONTH_KEPT),
    Sums("funnel_cohort_month", SNAPSHOT_KEYS["funnel_cohort_month"], ("deals",),
         _COHORT_DELTA.format(shape="d.furthest_stage_index, d.status", unnest="", shape_positions="6, 7, 8"),
         ("cur",), ("deals",)),
    Sums("funnel_cohort_month_entered", SNAPSHOT_KEYS["funnel_cohort_month_entered"], ("deals",),
         _COHORT_DELTA.format(shape="e.stage", unnest=", unnest(d.entered_stages) AS e(stage)", shape_positions="6, 7"),
         ("cur",), ("deals",)),
)}
_SOURCES = {"act": ("deal_activity", ("deal_id", "seq", "month", "owner_id", "team_id", "kind", "amount",
                                      "cycle_days", "score")),
            "vis": ("deal_stage_history", ("deal_id", "stage", "visit", "owner_id", "team_id", "entered_at",
                                           "exited_at")),
            "cur": ("deal_current", ("deal_id", "pipeline", "created_at", "owner_id", "team_id", "segment",
                                     "furthest_stage_index", "status", "entered_stages"))}


def _tail(sums: Sums, lo: str, hi: str, s: str) -> str:
    """WITH clauses: the signed versions (lo, hi] of the sources the delta reads."""
    return ",\n".join(f"{name} AS MATERIALIZED ({_signed(*_SOURCES[name], lo, hi, s)})" for name in sums.sources)


def _cast(sums: Sums, column: str) -> str:
    """A summed column back in its declared type (cycle_days_sum with its trailing zeros trimmed,
    as the live table keeps it)."""
    if column == "cycle_days_sum":
        return f"trim_scale(sum({column}))"
    kind = metadata.tables[f"{SCHEMA}.{sums.table}"].c[column].type.compile()
    return f"sum({column})::{kind.lower()}"


def _moment_before(s: str, at: str) -> str:
    return f"(SELECT coalesce(max(moment), '-infinity') FROM {s}.sums_moment WHERE moment <= {at})"


def delta_key(sums: Sums) -> tuple[str, ...]:
    """The names of the delta's key columns (the month sums call their rep or team `who`)."""
    return (*sums.key[:-1], "who") if sums.table.endswith("month_sums") else sums.key


def _team_columns(sums: Sums) -> tuple[str, str, str]:
    """(the key's team in the snapshot rows, in the delta rows, summed): rep_month_sums only."""
    return ("team_id, ", "NULL::text, ", "max(team_id) AS team_id, ") if sums.team else ("", "", "")


def relation(table: str, at: str, schema: str = SCHEMA) -> str:
    """SQL of `table` (a sums table) as of the recorded moment `at` (an SQL timestamptz)."""
    sums, s = SUMS[table], schema_name(schema)
    lo = _moment_before(s, at)
    key, values = ", ".join(sums.key), ", ".join(sums.values)
    snap_team, delta_team, team_max = _team_columns(sums)
    team = ""
    if sums.team:
        team = (f"CASE WHEN EXISTS (SELECT 1 FROM act a WHERE a.month = g.month AND a.owner_id = g.owner_id) "
                f"THEN {_REP_TEAM_AT.format(s=s, key='g', at=at)} ELSE g.team_id END AS team_id, ")
    return f"""WITH {_tail(sums, lo, at, s)},
delta AS ({sums.delta}),
g AS (SELECT {key}, {team_max}{_summed(sums)} FROM (
    SELECT {key}, {snap_team}{values} FROM {s}.{sums.table}_at WHERE during @> {lo}
    UNION ALL SELECT {", ".join(delta_key(sums))}, {delta_team}{values} FROM delta) x
    GROUP BY {key} HAVING {sums.nonzero()})
SELECT {", ".join(f"g.{c}" for c in sums.key)}, {team}{", ".join(f"g.{c}" for c in sums.values)} FROM g"""


def _summed(sums: Sums) -> str:
    return ", ".join(f"{_cast(sums, c)} AS {c}" for c in sums.values)


_SNAPSHOT = """
WITH delta AS ({delta}),
touched AS (SELECT DISTINCT {delta_key} FROM delta),
closed AS (
    UPDATE {s}.{table}_at x SET during = tstzrange(lower(x.during), {hi})
    FROM touched k WHERE upper_inf(x.during) AND {matches}
    RETURNING {returned})
INSERT INTO {s}.{table}_at ({columns}, during)
SELECT {key}, {team_max}{summed}, tstzrange({hi}, NULL) FROM (
    SELECT {columns} FROM closed
    UNION ALL SELECT {delta_key}, {delta_team}{values} FROM delta) x
GROUP BY {key} HAVING {nonzero}
"""
_SNAPSHOT_TEAM = """
UPDATE {s}.rep_month_sums_at t SET team_id = {probe}
WHERE lower(t.during) = {hi} AND EXISTS (SELECT 1 FROM act a WHERE a.month = t.month AND a.owner_id = t.owner_id)
"""


_LOW, _HIGH = "coalesce(CAST(%(lo)s AS timestamptz), '-infinity')", "CAST(%(hi)s AS timestamptz)"


def _tail_tables(conn: Connection, s: str, lo: datetime | None, hi: datetime) -> None:
    """The signed versions of (lo, hi] as temporary tables act, vis and cur (read by every sums
    table's delta; dropped at commit)."""
    for name, (table, columns) in _SOURCES.items():
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "
                             f"{_signed(table, columns, _LOW, _HIGH, s)}", {"lo": lo, "hi": hi})
        conn.exec_driver_sql(f"ANALYZE {name}")  # the planner's row counts for the deltas' joins


def _snapshot(conn: Connection, s: str, sums: Sums, hi: datetime) -> None:
    """Version the sums at `hi` from the newest ones (the open versions) and the change since
    (the temporary tables of _tail_tables)."""
    declared = metadata.tables[f"{SCHEMA}.{sums.table}"].c
    matches = " AND ".join(f"x.{c} IS NOT DISTINCT FROM k.{n}" if declared[c].nullable else f"x.{c} = k.{n}"
                           for c, n in zip(sums.key, delta_key(sums)))
    _, delta_team, team_max = _team_columns(sums)
    sql = _SNAPSHOT.format(
        delta=sums.delta, delta_key=", ".join(delta_key(sums)), s=s, table=sums.table, hi=_HIGH,
        matches=matches, returned=", ".join(f"x.{c}" for c in sums.columns()), columns=", ".join(sums.columns()),
        team_max=team_max, summed=_summed(sums), key=", ".join(sums.key), delta_team=delta_team,
        values=", ".join(sums.values), nonzero=sums.nonzero())
    params = {"hi": hi}
    conn.exec_driver_sql(sql, params)
    if sums.team:
        conn.exec_driver_sql(_SNAPSHOT_TEAM.format(s=s, hi=_HIGH, probe=_REP_TEAM_AT.format(s=s, key="t", at=_HIGH)),
                             params)


def take(conn: Connection, applied: int, schema: str = SCHEMA, every: int = EVERY) -> bool:
    """Snapshot the sums at the next moment of the grid (every `every` positions) if the
    projection has applied that far (`applied`: its watermark); True if the grid moved on. Call
    under the projection's lock, in a transaction of its own (it sets a planner option for it)."""
    s = schema_name(schema)
    last = conn.exec_driver_sql(f"SELECT moment, position FROM {s}.sums_moment ORDER BY moment DESC LIMIT 1").first()
    lo, after = (last[0], last[1]) if last else (None, 0)
    upto = after + every
    if applied < upto:
        return False
    hi = conn.execute(text("SELECT max(recorded_at) FROM events.event WHERE position > :a AND position <= :b"),
                      {"a": after, "b": upto}).scalar()
    if hi is None or (lo is not None and hi <= lo):  # nothing newer recorded there: the grid moves on
        if last is None:
            return False
        conn.exec_driver_sql(f"UPDATE {s}.sums_moment SET position = %(p)s WHERE moment = %(m)s", {"p": upto, "m": lo})
        return True
    # the touched keys (~1,000) against the open versions: hashed, not probed or merged (the
    # nullable key columns are compared IS NOT DISTINCT FROM, which no index condition takes)
    conn.exec_driver_sql("SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off")
    _tail_tables(conn, s, lo, hi)
    for sums in SUMS.values():
        _snapshot(conn, s, sums, hi)
    conn.exec_driver_sql(f"INSERT INTO {s}.sums_moment (moment, position) VALUES (%(m)s, %(p)s)",
                         {"m": hi, "p": upto})
    return True


def invalidate(conn: Connection, schema: str, since: datetime) -> None:
    """Drop the snapshots at or after `since` (versions were just written from that moment on):
    the versions they began go, the ones they ended are open again."""
    s = schema_name(schema)
    gone = conn.exec_driver_sql(f"DELETE FROM {s}.sums_moment WHERE moment >= %(t)s", {"t": since}).rowcount
    if not gone:
        return
    for sums in SUMS.values():
        conn.exec_driver_sql(f"DELETE FROM {s}.{sums.table}_at WHERE lower(during) >= %(t)s", {"t": since})
        conn.exec_driver_sql(f"UPDATE {s}.{sums.table}_at SET during = tstzrange(lower(during), NULL) "
                             f"WHERE upper(during) >= %(t)s", {"t": since})


# A rebuild's grid at once: the moment of each step (the newest recorded_at so far at each
# multiple of `every`; steps adding no newer moment fold into the previous one, as `take` does).
_GRID = """
SELECT m AS moment, max(upto) AS position FROM (
    SELECT upto, max(newest) OVER (ORDER BY upto) AS m FROM (
        SELECT ((position - 1) / %(every)s + 1) * %(every)s AS upto, max(recorded_at) AS newest
        FROM events.event WHERE position <= %(through)s GROUP BY 1) b) c
GROUP BY m ORDER BY m
"""
# Every version of `table`, +1 at the first grid step it holds at, -1 at the first it no longer
# does (k: 1-based steps; a moment's count of steps before it is width_bucket of the instant before).
_SIGNED_ALL = """
SELECT * FROM (
    SELECT {columns}, 1 AS sign, width_bucket(recorded_from - interval '1 microsecond', %(grid)s) + 1 AS k
    FROM {s}.{table}
    UNION ALL
    SELECT {columns}, 1, width_bucket(recorded_from - interval '1 microsecond', %(grid)s) + 1 FROM {s}.{table}_past
    UNION ALL
    SELECT {columns}, -1, width_bucket(recorded_to - interval '1 microsecond', %(grid)s) + 1 FROM {s}.{table}_past) v
WHERE k <= cardinality(%(grid)s)"""
# The values at each step a key changed (running sums of the deltas) and until the next such step.
_BUILD = """
WITH delta AS ({delta}),
steps AS (
    SELECT {key}, k, lead(k) OVER w AS next_k, {running} FROM (SELECT {delta_key}, k, {values} FROM delta) d
    GROUP BY {key}, k WINDOW w AS (PARTITION BY {partition} ORDER BY k))
INSERT INTO {s}.{table}_at ({columns}, during)
SELECT {key}, {team}{values}, tstzrange((%(grid)s)[k], (%(grid)s)[next_k]) FROM steps WHERE {nonzero}
"""


def build(conn: Connection, schema: str, through: int, every: int = EVERY) -> int:
    """Snapshot the sums at every step of the grid up to `through` at once (a rebuild, from its
    freshly built tables); how many moments. Same snapshots as `take` would take one by one."""
    s = schema_name(schema)
    grid = conn.exec_driver_sql(_GRID, {"every": every, "through": through // every * every}).all()
    if not grid:
        return 0
    params = {"grid": [moment for moment, _ in grid]}
    conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")  # the steps' sorts in memory (~300k rows at 1M events)
    for name, (table, columns) in _SOURCES.items():
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} AS "
                             + _SIGNED_ALL.format(columns=", ".join(columns), table=table, s=s), params)
        conn.exec_driver_sql(f"ANALYZE {name}")
    for sums in SUMS.values():
        names = dict(zip(sums.key, delta_key(sums)))
        conn.exec_driver_sql(_BUILD.format(
            delta=sums.delta, key=", ".join(sums.key), s=s, table=sums.table, columns=", ".join(sums.columns()),
            partition=", ".join(_bytewise(sums, c) for c in sorted(sums.key, key=lambda c: c == "pipeline")),
            delta_key=", ".join(f"{n} AS {c}" for c, n in names.items()), values=", ".join(sums.values),
            running=", ".join(f"{_running(sums, c)} AS {c}" for c in sums.values),
            team="NULL, " if sums.team else "", nonzero=sums.nonzero(summed=False)), params)
        if sums.team:
            conn.exec_driver_sql(f"UPDATE {s}.rep_month_sums_at t SET team_id = "
                                 + _REP_TEAM_AT.format(s=s, key="t", at="lower(t.during)"))
    for name in _SOURCES:
        conn.exec_driver_sql(f"DROP TABLE {name}")
    conn.exec_driver_sql(f"INSERT INTO {s}.sums_moment (moment, position) SELECT * FROM unnest(%(m)s, %(p)s)",
                         {"m": params["grid"], "p": [position for _, position in grid]})
    return len(grid)


def _bytewise(sums: Sums, column: str) -> str:
    """A text key column compared byte by byte: partitions are the same, sorting them cheaper."""
    text_type = metadata.tables[f"{SCHEMA}.{sums.table}"].c[column].type.python_type is str
    return f'{column} COLLATE "C"' if text_type else column


def _running(sums: Sums, column: str) -> str:
    """A value's running sum over the steps, in its declared type (see _cast)."""
    return _cast(sums, column).replace(f"sum({column})", f"sum(sum({column})) OVER w")
