"""Write deal facts: replace a deal's rows in every deal-level table (DELETE ... RETURNING, then
COPY) and add the change from the removed to the new rows to the aggregates."""
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection

from events.streams import StreamId
from projections import aggregates
from projections.derive import DealFacts
from projections.schema import DEAL_TABLES, LOOP_KEYS, columns_of, rows_of, schema_name


def replace_deals(conn: Connection, schema: str, deal_ids: list[str], facts: list[DealFacts]) -> None:
    """The deals' rows become `facts`; the deleted rows of the tables the aggregates are computed
    from come back from the DELETE (RETURNING, in declared column order) to be subtracted."""
    s = schema_name(schema)
    removed = {}
    for table in ("deal_current", *DEAL_TABLES):
        delete = f"DELETE FROM {s}.{table} WHERE deal_id = ANY(%(ids)s)"
        if table in aggregates.SOURCES:
            removed[table] = conn.exec_driver_sql(f"{delete} RETURNING {', '.join(columns_of(table))}",
                                                  {"ids": deal_ids}).all()
        else:
            conn.exec_driver_sql(delete, {"ids": deal_ids})
    added = {table: rows_of(facts, table) for table in ("deal_current", *DEAL_TABLES)}
    copy_tables(conn, schema, added)
    aggregates.apply_changes(conn, schema, removed, added)


def copy_rows(conn: Connection, schema: str, facts: list[DealFacts]) -> None:
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
    return "\t".join(_copy_value(v) for v in row) + "\n"


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


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    return _FORMATS[type(value)](value)
