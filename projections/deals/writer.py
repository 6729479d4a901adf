"""Write derived deals: replace a deal's rows (all of them, or the ones a resumed derivation
changed) in the deal-level tables (DELETE ... RETURNING, then COPY), keep the versions they
replace (the bitemporal `_past` tables), and add the change from the removed to the added rows
to the aggregates."""
import io
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter

from sqlalchemy import Connection

from events.streams import StreamId
from infra.array_text import array_text
from projections.deals import points
from projections.deals.history import Step, Timeline, Version, apply_steps, key_of
from projections.runtime.copy_text import copy_text
from projections.runtime.names import schema_name
from projections.sums import deltas as aggregates
from projections.sums import rollups, snapshots
from projections.tables.declared import VERSIONED_TABLES
from projections.tables.groups import DEAL_TABLES, LOOP_KEYS, POINT_TABLE, columns_of

# The rows a resumed deal replaces (table -> which of its rows): its current row, open visit,
# final close (activity seq 0, cycle row) and point. Its other history rows stay as they are.
_RESUMED_ROWS = {"deal_stage_history": "exited_at IS NULL", "deal_activity": "seq = 0", "cycle_time_deal": "true",
                 "deal_current": "true", POINT_TABLE: "true"}
ROW_TABLES = ("deal_current", *DEAL_TABLES)


@dataclass
class DealWrite:
    """A deal's new rows: `steps` from the rows it replaces (all of them when `full`, else the
    ones a resumption changes) through each recorded moment of its new events."""
    deal_id: str
    full: bool
    steps: list[Step] = field(default_factory=list)


def write_deals(conn: Connection, schema: str, writes: list[DealWrite]) -> None:
    """Delete the rows the writes replace (RETURNING them, in declared column order, with
    recorded_from for the versioned tables), step each deal's timeline from them, COPY its rows
    now and the versions they ended, and add the change from the removed to the added rows to
    the aggregates and roll-ups."""
    s = schema_name(schema)
    full = [w.deal_id for w in writes if w.full]
    everyone = [w.deal_id for w in writes]
    removed, seeds = {}, {w.deal_id: Timeline() for w in writes}
    ids = {"all": array_text(everyone), "full": array_text(full)}
    for table in (*ROW_TABLES, POINT_TABLE):
        condition = _RESUMED_ROWS.get(table)
        if condition is None and not full:
            continue
        # one index scan over every deal (an OR of two ANYs may turn into a scan of the table)
        where = (f"deal_id = ANY(%(all)s::text[]) AND (deal_id = ANY(%(full)s::text[]) OR {condition})"
                 if condition else "deal_id = ANY(%(full)s::text[])")
        delete, params = f"DELETE FROM {s}.{table} WHERE {where}", ids
        if table in VERSIONED_TABLES:
            rows = conn.exec_driver_sql(f"{delete} RETURNING {', '.join(columns_of(table))}, recorded_from",
                                        params).all()
            removed[table] = [tuple(r[:-1]) for r in rows]
            _seed(seeds, table, rows)
        elif table in _RETURNED:
            removed[table] = conn.exec_driver_sql(f"{delete} RETURNING {', '.join(columns_of(table))}", params).all()
        else:
            conn.exec_driver_sql(delete, params)
    lines = [(w.deal_id, apply_steps(seeds[w.deal_id], w.deal_id, w.steps)) for w in writes]
    earliest = min((step.at for w in writes for step in w.steps), default=None)
    if earliest is not None:  # versions begin and end at these moments: sums snapshotted since are stale
        snapshots.invalidate(conn, schema, earliest)
    rows = timeline_rows(lines)
    rows[POINT_TABLE] = [(deal_id, points.dumps(line.point)) for deal_id, line in lines if line.point is not None]
    copy_tables(conn, schema, rows)
    added = {table: [r[:-1] for r in rows[table]] if table in VERSIONED_TABLES else rows[table]
             for table in ROW_TABLES}
    aggregates.apply_changes(conn, schema, {t: removed.get(t, []) for t in aggregates.SOURCES},
                             {t: added[t] for t in aggregates.SOURCES})
    _refresh_rollups(conn, schema, removed, added)


# The tables whose removed rows are needed: the aggregates' sources, and the closed deals' rows
# (their roll-up is refreshed when one is removed or added).
_RETURNED = (*aggregates.SOURCES, "cycle_time_deal")


def _seed(seeds: dict[str, Timeline], table: str, rows) -> None:
    """The replaced rows, as the versions the deal's timeline starts from."""
    columns = columns_of(table)
    for row in rows:
        value = dict(zip(columns, row[:-1])) if table == "deal_current" else tuple(row[:-1])
        seeds[row[0]].current[key_of(table, value)] = Version(value, row[-1])


def timeline_rows(lines: list[tuple[str, Timeline]]) -> dict[str, list[tuple]]:
    """COPY input of deals' timelines: each table's rows now (in declared column order, then
    recorded_from for the versioned tables) and each `_past` table's ended versions."""
    out: dict[str, list[tuple]] = {t: [] for t in (*ROW_TABLES, *(f"{t}_past" for t in VERSIONED_TABLES))}
    for _, line in lines:
        for (table, _), version in line.current.items():
            row = _CURRENT_ROW(version.row) if table == "deal_current" else version.row
            out[table].append((*row, version.since) if table in VERSIONED_TABLES else tuple(row))
        for table, version in line.closed:
            row = _PAST_ROW(version.row) if table == "deal_current" else version.row
            out[f"{table}_past"].append((*row, version.since, version.until))
    return out


# deal_current's row (a dict) in declared column order; its `_past` versions keep fewer columns.
_CURRENT_ROW = itemgetter(*columns_of("deal_current"))
_PAST_ROW = itemgetter(*columns_of("deal_current_past")[:-2])


def _refresh_rollups(conn: Connection, schema: str, removed: dict, added: dict) -> None:
    """The report roll-ups of the deals whose rows they are computed from changed: the dwell of
    the closed (or reopened) deals, the open spans (the cohort months are sums:
    projections.sums.deltas). A resumed deal's rows are re-written whole; many events (a contact,
    feedback) leave its visits, amounts and owner as they were, and so its roll-up rows."""
    closed = {r[0] for r in (*removed.get("cycle_time_deal", ()), *added["cycle_time_deal"])}
    rollups.refresh_cycle_stage(conn, schema, closed & _changed(removed, added, _DWELL_SOURCES))
    rollups.refresh_open_spans(conn, schema, _changed(removed, added, _SPAN_SOURCES))


# What each roll-up is computed from (table -> the columns it reads; None: every column).
_DWELL_SOURCES = {"cycle_time_deal": None, "deal_stage_history": None}
_SPAN_SOURCES = {"deal_stage_history": None, "deal_amount_history": None,
                 "deal_current": ("deal_id", "owner_id", "team_id", "segment")}


def _changed(removed: dict, added: dict, sources: dict) -> set[str]:
    """Deals with a row of `sources` removed and not added back, or added anew."""
    deals: set[str] = set()
    for table, columns in sources.items():
        at = None if columns is None else [columns_of(table).index(c) for c in columns]
        before = Counter(_key(row, at) for row in removed.get(table, ()))
        after = Counter(_key(row, at) for row in added.get(table, ()))
        deals.update(key[0] for key in (before - after) + (after - before))
    return deals


def _key(row, at: list[int] | None) -> tuple:
    return tuple(row) if at is None else tuple(row[i] for i in at)


def copy_tables(conn: Connection, schema: str, tables: dict[str, list[tuple]]) -> None:
    """COPY rows in their tables' declared column order (the versioned tables' rows end with
    recorded_from)."""
    cursor = conn.connection.dbapi_connection.cursor()
    times: dict = {}  # the tables' rows repeat their events' times: each formatted once per call
    for table, rows in tables.items():
        if rows:
            columns = (*columns_of(table), "recorded_from") if table in VERSIONED_TABLES else columns_of(table)
            buffer = io.StringIO(copy_text(rows, times))
            cursor.copy_expert(f"COPY {schema_name(schema)}.{table} ({', '.join(columns)}) FROM STDIN", buffer)
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
