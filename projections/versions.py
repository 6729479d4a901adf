"""A deal's read-model rows over recorded time (bitemporal rows). Pure.

`timeline` steps through a deal's events in the order the log recorded them and says, for every
row, from when to when (recorded_at) it was what the read models held: the rows true now (with
the time they became so) and every earlier version (with the time it stopped being so). The
read models "as of" any moment are then the versions whose range holds that moment — a query
instead of a replay — and they equal deriving the deal from the events recorded by then.

Each step folds on from the previous step's point when it can (`derive.resumable`: an event
later in business time) and derives the deal again from the events so far when it cannot (a
void, a back-dated event); only the rows a step may have changed are compared. Events recorded
at the same moment (one batch) make one version: nothing could have seen the rows in between.
A `deal_current` row is versioned by the columns reports read (VERSIONED_CURRENT), so a contact
or a retitled deal does not make a new version of it."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.pipelines import PIPELINES, Pipeline
from projections.derive import DealFacts, Ev, Point, derive, resumable, resume
from projections.schema import HISTORY_ROWS

# deal_current columns whose history reports need (the funnel, cycle time, forecast, performance)
VERSIONED_CURRENT = ("deal_id", "pipeline", "owner_id", "team_id", "segment", "stage", "status", "created_at",
                     "closed_at", "current_amount", "expected_close_date", "furthest_stage_index",
                     "entered_stages")
Key = tuple[str, tuple]  # (table, primary key)


@dataclass(frozen=True)
class Version:
    row: tuple | dict[str, Any]  # a table row; deal_current: the row as a dict
    since: datetime
    until: datetime | None = None  # None: still true


@dataclass
class Timeline:
    current: dict[Key, Version] = field(default_factory=dict)
    closed: list[tuple[str, Version]] = field(default_factory=list)  # (table, version)
    point: Point | None = None

    def as_of(self, moment: datetime) -> dict[Key, Any]:
        """The rows the read models held at `moment` (deal_current compared by its versioned
        columns: that is all a version of it keeps)."""
        rows = {k: _compared(k[0], v.row) for k, v in self.current.items() if v.since <= moment}
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


def _key(table: str, row) -> tuple:
    if table in ("deal_current", "cycle_time_deal"):
        return (row["deal_id"],) if isinstance(row, dict) else (row[0],)
    if table == "deal_stage_history":
        return row[:3]  # deal_id, stage, visit
    return row[:2]  # deal_id, seq


def _compared(table: str, row):
    return tuple(row[c] for c in VERSIONED_CURRENT) if table == "deal_current" else row


def _closing_rows(deal_id: str) -> set[Key]:
    """The rows a resumed step may take away without emitting them again: the final close (a
    reopen undoes it). Every other row it changes (the current row, the open visit) it emits."""
    return {("cycle_time_deal", (deal_id,)), ("deal_activity", (deal_id, 0))}


def timeline(deal_id: str, events: Iterable[Ev], pipelines: Mapping[str, Pipeline] = PIPELINES) -> Timeline:
    """The deal's rows over recorded time (events need recorded_at)."""
    ordered = sorted(events, key=lambda e: e.stream_version)
    out = Timeline()
    for n, event in enumerate(ordered):
        point = out.point
        if point is not None and resumable(point, [event]):
            facts = resume(point, [event], pipelines)
            candidates = _closing_rows(deal_id)
        else:
            facts = derive(deal_id, ordered[:n + 1], pipelines)
            candidates = set(out.current)
        new = rows_of(facts)
        _step(out, candidates | set(new), new, event.recorded_at)
        out.point = None if facts is None else facts.point
    return out


def _step(out: Timeline, keys: set[Key], new: Mapping[Key, Any], at: datetime) -> None:
    for key in keys:
        old, row = out.current.get(key), new.get(key)
        if old is not None and row is not None and _compared(key[0], old.row) == _compared(key[0], row):
            out.current[key] = Version(row, old.since)  # same version (deal_current: other columns moved on)
            continue
        if old is not None:
            del out.current[key]
            if old.since < at:  # a version nothing could see (one batch) leaves no trace
                kept = {c: old.row[c] for c in VERSIONED_CURRENT} if key[0] == "deal_current" else old.row
                out.closed.append((key[0], Version(kept, old.since, at)))
        if row is not None:
            out.current[key] = Version(row, at)
