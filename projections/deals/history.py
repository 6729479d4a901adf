"""A deal's read-model rows over recorded time (bitemporal rows). Pure.

A deal's events, taken in the order the log recorded them, move its rows through versions: each
recorded moment (the events of one append share its clock) gives the rows a derivation of the
events recorded by then would give. `steps` computes those derivations — folding on from the
previous step's point when it can (`derive.resumable`: an event later in business time) and
deriving the deal again from the events so far when it cannot (a void, a back-dated event) —
and `apply_steps` turns them into versions: the rows true now (each with the moment it became
so) and every earlier version of the versioned tables (with the moment it stopped being so).
The read models "as of" any moment are then the versions whose range holds it — a query instead
of a replay — and they equal deriving the deal from the events recorded by then.

The live projection seeds a Timeline with the rows it replaces (read back with their
recorded_from) and steps it through the new events; a rebuild steps every deal from nothing
(`timeline`). A `deal_current` row is versioned by the columns reports read (VERSIONED_CURRENT),
so a contact or a retitled deal does not make a new version of it."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from domain.pipelines import PIPELINES, Pipeline
from projections.deals.rows import DealFacts, Ev, Point, derive, resumable, resume
from projections.tables.declared import SCHEMA, VERSIONED_CURRENT, VERSIONED_TABLES, metadata
from projections.tables.groups import HISTORY_ROWS, columns_of

Key = tuple[str, tuple]  # (table, primary key)


class Version(NamedTuple):  # a named tuple: one per row and step of a rebuild
    row: tuple | dict[str, Any]  # a table row; deal_current: the row as a dict
    since: datetime
    until: datetime | None = None  # None: still true


@dataclass(frozen=True)
class Step:
    """The deal's rows after the events recorded at one moment: `facts` of a resumption (only the
    rows it added or changed) or of a full derivation (all of them; None: no deal any more)."""
    at: datetime
    facts: DealFacts | None
    resumed: bool


@dataclass
class Timeline:
    current: dict[Key, Version] = field(default_factory=dict)  # every table's rows
    closed: list[tuple[str, Version]] = field(default_factory=list)  # (table, version): VERSIONED_TABLES only
    point: Point | None = None

    def as_of(self, moment: datetime) -> dict[Key, Any]:
        """The versioned rows the read models held at `moment` (deal_current compared by its
        versioned columns: that is all a version of it keeps)."""
        rows = {k: _compared(k[0], v.row) for k, v in self.current.items()
                if v.since <= moment and k[0] in VERSIONED_TABLES}
        for table, v in self.closed:
            if v.since <= moment < v.until:
                rows[(table, _key(table, v.row))] = _compared(table, v.row)
        return rows


def rows_of(facts: DealFacts | None) -> dict[Key, Any]:
    """Every row of a derivation, by (table, primary key)."""
    if facts is None:
        return {}
    rows: dict[Key, Any] = {("deal_current", (facts.current["deal_id"],)): facts.current}
    if facts.cycle is not None:
        rows[("cycle_time_deal", (facts.cycle.deal_id,))] = facts.cycle
    for table, attribute in HISTORY_ROWS.items():
        for row in getattr(facts, attribute):
            rows[(table, _key(table, row))] = row
    return rows


def key_of(table: str, row) -> Key:
    return table, _key(table, row)


def _key(table: str, row) -> tuple:
    if isinstance(row, dict):
        return tuple(row[c] for c in _KEYS[table][0])
    return _KEY_OF[table](row)


# Each table's primary key: its columns, and their places in a row (declared column order).
_KEYS = {table: ([c.name for c in primary], [columns_of(table).index(c.name) for c in primary])
         for table in ("deal_current", "cycle_time_deal", *HISTORY_ROWS)
         for primary in [metadata.tables[f"{SCHEMA}.{table}"].primary_key.columns]}
_KEY_OF = {table: itemgetter(*places) if len(places) > 1 else (lambda row, i=places[0]: (row[i],))
           for table, (_, places) in _KEYS.items()}  # a tuple row's key, in C


def _compared(table: str, row):
    return tuple(row[c] for c in VERSIONED_CURRENT) if table == "deal_current" else tuple(row)


def _closing_rows(deal_id: str) -> set[Key]:
    """The rows a resumed step may take away without emitting them again: the final close (a
    reopen undoes it). Every other row it changes (the current row, the open visit) it emits."""
    return {("cycle_time_deal", (deal_id,)), ("deal_activity", (deal_id, 0))}


def moments(events: Iterable[Ev]) -> list[list[Ev]]:
    """Consecutive events (stream order) recorded at one moment, grouped: one version each."""
    return [list(group) for _, group in groupby(events, key=lambda e: e.recorded_at)]


def steps(deal_id: str, point: Point | None, before: list[Ev], new: list[Ev],
          pipelines: Mapping[str, Pipeline] = PIPELINES, resume_only: bool = False) -> list[Step]:
    """The deal's rows after each recorded moment of `new` (stream order), from `point` (the
    derivation of `before`, or None). `resume_only`: raise instead of deriving in full."""
    out, history = [], list(before)
    for group in moments(new):
        history += group
        if point is not None and resumable(point, group):
            try:
                facts, resumed = resume(point, group, pipelines), True
            except Exception:
                if resume_only:
                    raise
                facts, resumed = derive(deal_id, history, pipelines), False  # isolates what it cannot apply
        elif resume_only:
            raise ValueError(f"{deal_id}: events after the point are not resumable")
        else:
            facts, resumed = derive(deal_id, history, pipelines), False
        out.append(Step(group[-1].recorded_at, facts, resumed))
        point = None if facts is None else facts.point
    return out


def apply_steps(line: Timeline, deal_id: str, taken: Iterable[Step]) -> Timeline:
    """Move `line` (seeded with the rows the steps replace: all of the deal's for a full
    derivation, the ones a resumption changes otherwise) through the steps."""
    for step in taken:
        new = rows_of(step.facts)
        if not line.current:  # nothing to compare with or end (a rebuild's first step): all new
            line.current = {key: Version(row, step.at) for key, row in new.items()}
            line.point = None if step.facts is None else step.facts.point
            continue
        candidates = _closing_rows(deal_id) if step.resumed else set(line.current)
        _step(line, candidates | set(new), new, step.at)
        line.point = None if step.facts is None else step.facts.point
    return line


def timeline(deal_id: str, events: Iterable[Ev], pipelines: Mapping[str, Pipeline] = PIPELINES) -> Timeline:
    """The deal's rows over recorded time, from nothing (events need recorded_at)."""
    ordered = sorted(events, key=lambda e: e.stream_version)
    return apply_steps(Timeline(), deal_id, steps(deal_id, None, [], ordered, pipelines))


def _step(out: Timeline, keys: set[Key], new: Mapping[Key, Any], at: datetime) -> None:
    for key in keys:
        old, row = out.current.get(key), new.get(key)
        if old is not None and row is not None and _compared(key[0], old.row) == _compared(key[0], row):
            out.current[key] = Version(row, old.since)  # same version (deal_current: other columns moved on)
            continue
        if old is not None:
            del out.current[key]
            # a version nothing could see (one append) leaves no trace; unversioned tables none
            if old.since < at and key[0] in VERSIONED_TABLES:
                kept = {c: old.row[c] for c in VERSIONED_CURRENT} if key[0] == "deal_current" else old.row
                out.closed.append((key[0], Version(kept, old.since, at)))
        if row is not None:
            out.current[key] = Version(row, at)
