"""Write deal facts: replace a deal's rows (all of them, or the ones a resumed derivation
changed) in the deal-level tables (COPY), note which aggregate keys the removed and added rows
touch, refresh those aggregates."""
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import Connection

from events.streams import StreamId
from projections import aggregates
from projections.derive import DealFacts
from projections.schema import DEAL_TABLES, LOOP_KEYS, POINT_TABLE, columns_of, rows_of, schema_name

@dataclass
class Touched:
    """Aggregate keys whose rows must be recomputed."""
    funnel: set[tuple] = field(default_factory=set)
    cohorts: set[tuple] = field(default_factory=set)  # (pipeline, UTC creation day)
    reps: dict[str, date] = field(default_factory=dict)
    teams: dict[str, date] = field(default_factory=dict)
    deals: set[str] = field(default_factory=set)  # every deal written (its deal_current row replaced)
    closed: set[str] = field(default_factory=set)  # deals whose cycle_time_deal row was removed or added

    def rep(self, who: str | None, month: date) -> None:
        _earliest(self.reps, who, month)

    def team(self, who: str | None, month: date) -> None:
        _earliest(self.teams, who, month)


def _earliest(keys: dict, who, month) -> None:
    if who is not None and (who not in keys or month < keys[who]):
        keys[who] = month


def _month(at: datetime) -> date:
    return date(at.year, at.month, 1)


# The rows a resumed deal replaces (table -> which of its rows): its current row, open visit,
# final close (activity seq 0, cycle row) and point. Its other history rows stay as they are.
_RESUMED_ROWS = {"deal_stage_history": "exited_at IS NULL", "deal_activity": "seq = 0", "cycle_time_deal": "true",
                 "deal_current": "true", POINT_TABLE: "true"}


def write_deals(conn: Connection, schema: str, facts: list[DealFacts], gone: list[str] = ()) -> Touched:
    """Write derived deals: a full derivation replaces all the deal's rows, a resumed one the
    rows it changed (its open visit, final close, current row and point) and adds the rest;
    `gone` deals (no longer created) lose their rows. Returns the aggregate keys to refresh,
    from the rows removed and the rows added."""
    s = schema_name(schema)
    full = [f.current["deal_id"] for f in facts if not f.resumed] + list(gone)
    resumed = [f.current["deal_id"] for f in facts if f.resumed]
    touched = Touched()
    for table in ("deal_current", *DEAL_TABLES, POINT_TABLE):
        columns = columns_of(table)
        condition = _RESUMED_ROWS.get(table)
        if condition is None and not full:
            continue
        # one index scan over every deal (an OR of two ANYs may turn into a scan of the table)
        where = (f"deal_id = ANY(%(all)s) AND (deal_id = ANY(%(full)s) OR {condition})" if condition
                 else "deal_id = ANY(%(full)s)")
        removed = conn.exec_driver_sql(f"DELETE FROM {s}.{table} WHERE {where} RETURNING {', '.join(columns)}",
                                       {"all": full + resumed, "full": full}).all()
        note(touched, table, columns, removed)
    added = {table: rows_of(facts, table) for table in ("deal_current", *DEAL_TABLES, POINT_TABLE)}
    copy_tables(conn, schema, added)
    for table, rows in added.items():
        note(touched, table, columns_of(table), rows)
    return touched


def note(touched: Touched, table: str, columns: tuple[str, ...], rows) -> None:
    """The aggregate keys `rows` of `table` (tuples in `columns` order) contribute to."""
    if not rows or table not in _KEYS_OF:
        return
    at = {name: columns.index(name) for name in columns}
    _KEYS_OF[table](touched, at, rows)


def _funnel_keys(touched: Touched, at: dict, rows) -> None:
    for r in rows:
        touched.funnel.add((r[at["pipeline"]], r[at["stage"]], r[at["owner_id"]], r[at["team_id"]]))


def _cohort_keys(touched: Touched, at: dict, rows) -> None:
    for r in rows:
        touched.cohorts.add((r[at["pipeline"]], r[at["created_at"]].astimezone(timezone.utc).date()))


def _deal_keys(touched: Touched, at: dict, rows) -> None:
    _cohort_keys(touched, at, rows)
    touched.deals.update(r[at["deal_id"]] for r in rows)


def _closed_keys(touched: Touched, at: dict, rows) -> None:
    touched.closed.update(r[at["deal_id"]] for r in rows)


def _month_keys(column: str):
    def keys(touched: Touched, at: dict, rows) -> None:
        for r in rows:
            month = r[at[column]] if column == "month" else _month(r[at[column]])
            touched.rep(r[at["owner_id"]], month)
            touched.team(r[at["team_id"]], month)
    return keys


_KEYS_OF = {"funnel_delta": _funnel_keys, "deal_current": _deal_keys, "deal_activity": _month_keys("month"),
            "deal_stage_history": _month_keys("entered_at"), "cycle_time_deal": _closed_keys}


def refresh(conn: Connection, schema: str, touched: Touched | None) -> None:
    """Recompute the touched aggregate rows (None: all of them)."""
    aggregates.refresh_funnel(conn, schema, None if touched is None else touched.funnel)
    aggregates.refresh_cohort(conn, schema, None if touched is None else touched.cohorts)
    aggregates.refresh_cohort_month(conn, schema, None if touched is None else touched.cohorts)
    aggregates.refresh_cycle_stage(conn, schema, None if touched is None else touched.closed)
    aggregates.refresh_open_spans(conn, schema, None if touched is None else touched.deals)
    aggregates.refresh_performance(conn, schema, "rep", None if touched is None else touched.reps)
    aggregates.refresh_performance(conn, schema, "team", None if touched is None else touched.teams)


def copy_rows(conn: Connection, schema: str, facts: list[DealFacts]) -> None:
    """All rows of fully derived deals (no resume points: rebuilt tables have none)."""
    copy_tables(conn, schema, {table: rows_of(facts, table) for table in ("deal_current", *DEAL_TABLES)})


def copy_tables(conn: Connection, schema: str, tables: dict[str, list[tuple]]) -> None:
    cursor = conn.connection.dbapi_connection.cursor()
    for table, rows in tables.items():
        if rows:
            buffer = io.StringIO("".join(_copy_line(row) for row in rows))
            cursor.copy_expert(f"COPY {schema_name(schema)}.{table} ({', '.join(columns_of(table))}) "
                               f"FROM STDIN", buffer)
    cursor.close()


def replace_streams(conn: Connection, schema: str, stream_ids: list[str],
                    tables: dict[str, list[tuple]]) -> None:
    """Replace the rows of target: and review: streams."""
    s = schema_name(schema)
    streams = [StreamId.parse(i) for i in stream_ids]
    for table, (kind, key) in LOOP_KEYS.items():
        ids = [stream.key for stream in streams if stream.kind is kind]
        if ids:
            conn.exec_driver_sql(f"DELETE FROM {s}.{table} WHERE {key} = ANY(%(ids)s)", {"ids": ids})
    copy_tables(conn, schema, tables)


def _copy_line(row: tuple) -> str:
    # None and text inline: this runs for every value projected
    return "\t".join(["\\N" if v is None else _text(v) if type(v) is str else _FORMATS[type(v)](v)
                      for v in row]) + "\n"


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")


def _text(value: str) -> str:
    return value.translate(_ESCAPES) if _SPECIAL.search(value) else value


def _array(value: list) -> str:
    items = ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
    return _text("{" + items + "}")


_FORMATS = {str: _text, int: str, float: repr, Decimal: str, datetime: datetime.isoformat,
            date: date.isoformat, bool: lambda v: "t" if v else "f", list: _array,
            dict: lambda v: _text(json.dumps(v, separators=(",", ":"), sort_keys=True))}
