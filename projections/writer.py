"""Write deal facts: replace a deal's rows in every deal-level table (COPY), note which
aggregate keys changed (before and after), refresh those aggregates."""
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
from projections.schema import DEAL_TABLES, LOOP_KEYS, columns_of, rows_of, schema_name

_OLD_KEYS = """
SELECT 'f', pipeline, stage, owner_id, team_id, NULL::date FROM {s}.funnel_delta WHERE deal_id = ANY(%(ids)s)
UNION
SELECT 'r', NULL, NULL, owner_id, NULL, min(month) FROM {s}.deal_activity WHERE deal_id = ANY(%(ids)s) GROUP BY owner_id
UNION
SELECT 't', NULL, NULL, NULL, team_id, min(month) FROM {s}.deal_activity WHERE deal_id = ANY(%(ids)s) GROUP BY team_id
UNION
SELECT 'r', NULL, NULL, owner_id, NULL, date_trunc('month', min(entered_at))::date
  FROM {s}.deal_stage_history WHERE deal_id = ANY(%(ids)s) GROUP BY owner_id
UNION
SELECT 't', NULL, NULL, NULL, team_id, date_trunc('month', min(entered_at))::date
  FROM {s}.deal_stage_history WHERE deal_id = ANY(%(ids)s) GROUP BY team_id
UNION
SELECT 'c', pipeline, NULL, NULL, NULL, (created_at AT TIME ZONE 'UTC')::date
  FROM {s}.deal_current WHERE deal_id = ANY(%(ids)s)
"""


@dataclass
class Touched:
    """Aggregate keys whose rows must be recomputed."""
    funnel: set[tuple] = field(default_factory=set)
    cohorts: set[tuple] = field(default_factory=set)  # (pipeline, UTC creation day)
    reps: dict[str, date] = field(default_factory=dict)
    teams: dict[str, date] = field(default_factory=dict)

    def rep(self, who: str | None, month: date) -> None:
        _earliest(self.reps, who, month)

    def team(self, who: str | None, month: date) -> None:
        _earliest(self.teams, who, month)


def _earliest(keys: dict, who, month) -> None:
    if who is not None and (who not in keys or month < keys[who]):
        keys[who] = month


def _month(at: datetime) -> date:
    return date(at.year, at.month, 1)


def replace_deals(conn: Connection, schema: str, deal_ids: list[str], facts: list[DealFacts]) -> Touched:
    s = schema_name(schema)
    touched = Touched()
    for kind, pipeline, stage, owner, team, month in conn.exec_driver_sql(
            _OLD_KEYS.format(s=s), {"ids": deal_ids}):
        if kind == "f":
            touched.funnel.add((pipeline, stage, owner, team))
        elif kind == "c":
            touched.cohorts.add((pipeline, month))
        elif kind == "r":
            touched.rep(owner, month)
        else:
            touched.team(team, month)
    for table in ("deal_current", *DEAL_TABLES):
        conn.exec_driver_sql(f"DELETE FROM {s}.{table} WHERE deal_id = ANY(%(ids)s)", {"ids": deal_ids})
    copy_rows(conn, s, facts)
    for f in facts:
        note_new(touched, f)
    return touched


def note_new(touched: Touched, facts: DealFacts) -> None:
    created = facts.current["created_at"].astimezone(timezone.utc).date()
    touched.cohorts.add((facts.current["pipeline"], created))
    for row in facts.funnel:
        touched.funnel.add((row.pipeline, row.stage, row.owner_id, row.team_id))
    for row in facts.activity:
        touched.rep(row.owner_id, row.month)
        touched.team(row.team_id, row.month)
    for row in facts.visits:
        touched.rep(row.owner_id, _month(row.entered_at))
        touched.team(row.team_id, _month(row.entered_at))


def refresh(conn: Connection, schema: str, touched: Touched | None) -> None:
    """Recompute the touched aggregate rows (None: all of them)."""
    aggregates.refresh_funnel(conn, schema, None if touched is None else touched.funnel)
    aggregates.refresh_cohort(conn, schema, None if touched is None else touched.cohorts)
    aggregates.refresh_performance(conn, schema, "rep", None if touched is None else touched.reps)
    aggregates.refresh_performance(conn, schema, "team", None if touched is None else touched.teams)


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
