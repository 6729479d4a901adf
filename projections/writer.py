"""Write deal facts: replace a deal's rows (all of them, or the ones a resumed derivation
changed) in the deal-level tables (DELETE ... RETURNING, then COPY) and add the change from the
removed to the added rows to the aggregates."""
import io
import json
import re
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import Connection

from events.streams import StreamId
from projections import aggregates, rollups
from projections.derive import DealFacts
from projections.schema import DEAL_TABLES, LOOP_KEYS, POINT_TABLE, columns_of, rows_of, schema_name

# The rows a resumed deal replaces (table -> which of its rows): its current row, open visit,
# final close (activity seq 0, cycle row) and point. Its other history rows stay as they are.
_RESUMED_ROWS = {"deal_stage_history": "exited_at IS NULL", "deal_activity": "seq = 0", "cycle_time_deal": "true",
                 "deal_current": "true", POINT_TABLE: "true"}


def write_deals(conn: Connection, schema: str, facts: list[DealFacts], gone: list[str] = ()) -> None:
    """Write derived deals: a full derivation replaces all the deal's rows, a resumed one the
    rows it changed (its open visit, final close, current row and point) and adds the rest;
    `gone` deals (no longer created) lose their rows. The removed rows of the tables the
    aggregates are computed from come back from the DELETE (RETURNING, in declared column
    order), and the change from them to the added rows goes to the aggregates."""
    s = schema_name(schema)
    full = [f.current["deal_id"] for f in facts if not f.resumed] + list(gone)
    resumed = [f.current["deal_id"] for f in facts if f.resumed]
    removed = {}
    for table in ("deal_current", *DEAL_TABLES, POINT_TABLE):
        condition = _RESUMED_ROWS.get(table)
        if condition is None and not full:
            continue
        # one index scan over every deal (an OR of two ANYs may turn into a scan of the table)
        where = (f"deal_id = ANY(%(all)s) AND (deal_id = ANY(%(full)s) OR {condition})" if condition
                 else "deal_id = ANY(%(full)s)")
        delete, params = f"DELETE FROM {s}.{table} WHERE {where}", {"all": full + resumed, "full": full}
        if table in _RETURNED:
            removed[table] = conn.exec_driver_sql(f"{delete} RETURNING {', '.join(columns_of(table))}", params).all()
        else:
            conn.exec_driver_sql(delete, params)
    added = {table: rows_of(facts, table) for table in ("deal_current", *DEAL_TABLES, POINT_TABLE)}
    copy_tables(conn, schema, added)
    aggregates.apply_changes(conn, schema, {t: removed.get(t, []) for t in aggregates.SOURCES},
                             {t: added[t] for t in aggregates.SOURCES})
    _refresh_rollups(conn, schema, full + resumed, removed, added)


# The tables whose removed rows are needed: the aggregates' sources, and the closed deals' rows
# (their roll-up is refreshed when one is removed or added).
_RETURNED = (*aggregates.SOURCES, "cycle_time_deal")


def _refresh_rollups(conn: Connection, schema: str, written: list[str], removed: dict, added: dict) -> None:
    """The report roll-ups of the deals written: cohort months of their creation days (before
    and after), the dwell of the deals closed or reopened, the open spans of every deal written."""
    current = columns_of("deal_current")
    pipeline, created = current.index("pipeline"), current.index("created_at")
    cohorts = {(r[pipeline], r[created].astimezone(timezone.utc).date())
               for r in (*removed.get("deal_current", ()), *added["deal_current"])}
    closed = {r[0] for r in (*removed.get("cycle_time_deal", ()), *added["cycle_time_deal"])}
    rollups.refresh_cohort_month(conn, schema, cohorts)
    rollups.refresh_cycle_stage(conn, schema, closed)
    rollups.refresh_open_spans(conn, schema, set(written))


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
