"""Everything the sales read models hold about one deal, from its events. Pure.

The deal is folded by domain.deal.fold — the same fold the write side uses, so deal_current
and GET /v1/deals/{id} are one truth — in business order (occurred_at, then stream_version),
voided events left out. The history rows (stage visits, amounts, activity, funnel movements,
feedback, cycle time) are built from what each step changed. Every row of a deal is a function
of its events only: incremental projection, rebuild and replay agree by construction.

A derivation ends at a `Point` (the state plus what the row builder needs to go on: visit
counts, the open visit, row counters, the owners over business time). `resume` continues from a
stored point with events that add what a full derivation would add: events later in business
time than everything folded so far, and contacts and feedback at any business time (their only
row is their own, keyed by their stream version, attributed to the owner then). So live
projection folds only new events. Anything else (a void, another back-dated event) is derived
again from the whole stream."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from domain.deal import Change, DealState, apply, business_order, copied, fold
from domain.pipelines import LOST, PIPELINES, WON, Pipeline

DAY = 86400.0


class Ev(NamedTuple):
    """The part of an envelope the projections use."""
    event_id: str
    type: str
    stream_version: int
    position: int
    occurred_at: datetime
    data: dict[str, Any]
    recorded_at: datetime | None = None  # when the log took it (the clock `as_of` asks about)


class StageVisit(NamedTuple):  # deal_stage_history
    deal_id: str
    stage: str
    visit: int
    pipeline: str
    entered_at: datetime
    exited_at: datetime | None
    dwell_seconds: float | None
    exit_to: str | None
    entered_by: str
    owner_id: str | None
    team_id: str | None


class AmountRow(NamedTuple):  # deal_amount_history
    deal_id: str
    valid_from: datetime
    seq: int
    amount: Decimal | None


class ActivityRow(NamedTuple):  # deal_activity
    deal_id: str
    seq: int  # the event's stream version; 0 for the final close
    kind: str
    occurred_at: datetime
    month: date
    owner_id: str | None
    team_id: str | None
    amount: Decimal | None = None
    cycle_days: float | None = None
    score: int | None = None


class FunnelDelta(NamedTuple):  # funnel_delta
    deal_id: str
    seq: int
    day: date
    pipeline: str
    stage: str
    owner_id: str | None
    team_id: str | None
    entered: int = 0
    advanced: int = 0
    regressed: int = 0
    lost: int = 0
    open_delta: int = 0
    amount_delta: Decimal = Decimal(0)


class FeedbackRow(NamedTuple):  # feedback
    deal_id: str
    seq: int  # the event's stream version
    occurred_at: datetime
    month: date
    score: int
    comment: str | None
    source: str | None
    owner_id: str | None
    team_id: str | None


class CycleRow(NamedTuple):  # cycle_time_deal
    deal_id: str
    outcome: str
    owner_id: str | None
    team_id: str | None
    segment: str | None
    pipeline: str
    created_at: datetime
    closed_at: datetime
    cycle_days: float


@dataclass
class Point:
    """Where a derivation of one deal stands: enough to resume it with later events."""
    state: DealState
    position: int = 0  # the newest event folded
    latest_at: datetime | None = None  # the latest occurred_at folded (business time)
    visit_counts: dict[str, int] = field(default_factory=dict)
    open_visit: StageVisit | None = None
    counts: dict[str, int] = field(default_factory=dict)  # rows so far per history table
    owners: list[tuple[datetime, str | None, str | None]] = field(default_factory=list)  # (since, owner, team)


@dataclass
class DealFacts:
    """A deal's rows. `resumed`: only the rows a resumption added or changed (the deal's current
    row, its open visit, its final close rows) — the others are already stored."""
    current: dict[str, Any]
    point: Point | None = None
    resumed: bool = False
    visits: list[StageVisit] = field(default_factory=list)
    amounts: list[AmountRow] = field(default_factory=list)
    activity: list[ActivityRow] = field(default_factory=list)
    funnel: list[FunnelDelta] = field(default_factory=list)
    feedback: list[FeedbackRow] = field(default_factory=list)
    cycle: CycleRow | None = None


def _month(at: datetime) -> date:
    return date(at.year, at.month, 1)


class _Rows:
    """Builds the history rows from the fold's changes (the open visit, visit counts, seqs)."""

    def __init__(self, deal_id: str, pipelines: Mapping[str, Pipeline], point: Point | None = None):
        self.deal_id, self.pipelines = deal_id, pipelines
        self.facts = DealFacts(current={})
        self.visit_counts: dict[str, int] = dict(point.visit_counts) if point else {}
        self.open_visit: StageVisit | None = point.open_visit if point else None
        self.counts = dict(point.counts) if point else {}
        self.owners = list(point.owners) if point else []  # owner changes in business order
        if point is not None:
            self.pipeline, self.stages = point.state.pipeline, point.state.stages

    def _seq(self, table: str) -> int:
        self.counts[table] = self.counts.get(table, 0) + 1
        return self.counts[table]

    def __call__(self, state: DealState, fact: Ev, changes: list[Change]) -> None:
        for change in changes:
            _ROW_BUILDERS[change.kind](self, state, fact, change)

    def _funnel(self, at: datetime, stage: str, owner, team, **counts) -> None:
        self.facts.funnel.append(FunnelDelta(self.deal_id, self._seq("funnel"), at.date(), self.pipeline, stage,
                                             owner, team, **counts))

    def _activity(self, state: DealState, fact: Ev, kind: str, at: datetime, **values) -> None:
        self.facts.activity.append(ActivityRow(self.deal_id, fact.stream_version, kind, at, _month(at),
                                               *self._owner_at(state, at), **values))

    def _owner_at(self, state: DealState, at: datetime) -> tuple[str | None, str | None]:
        """The owner and team at business time `at`: the state's, unless an owner change came
        later (a contact or feedback back-dated before it)."""
        if not self.owners or self.owners[-1][0] <= at:
            return state.owner_id, state.team_id
        earlier = [(owner, team) for since, owner, team in self.owners if since <= at]
        return earlier[-1] if earlier else (state.created_owner_id, state.created_team_id)

    def _owner(self, state: DealState, fact: Ev, change: Change) -> None:
        self.owners.append((change.at, state.owner_id, state.team_id))

    def _created(self, state: DealState, fact: Ev, change: Change) -> None:
        self.pipeline, self.stages = state.pipeline, state.stages
        self._activity(state, fact, "created", change.at)

    def _amount(self, state: DealState, fact: Ev, change: Change) -> None:
        self.facts.amounts.append(AmountRow(self.deal_id, change.at, self._seq("amounts"), change.after))
        visit, before, after = self.open_visit, change.before or Decimal(0), change.after or Decimal(0)
        if visit is not None and after != before:
            self._funnel(change.at, visit.stage, visit.owner_id, visit.team_id, amount_delta=after - before)

    def _entered(self, state: DealState, fact: Ev, change: Change) -> None:
        count = self.visit_counts.get(change.stage, 0) + 1
        self.visit_counts[change.stage] = count
        self.open_visit = StageVisit(self.deal_id, change.stage, count, self.pipeline, change.at, None, None,
                                     None, change.entered_by, state.owner_id, state.team_id)
        self._funnel(change.at, change.stage, state.owner_id, state.team_id, entered=1, open_delta=1,
                     amount_delta=state.current_amount or Decimal(0))

    def _left(self, state: DealState, fact: Ev, change: Change) -> None:
        visit = self.open_visit
        if visit is None:
            return
        at, exit_to = change.at, change.to
        self.facts.visits.append(visit._replace(exited_at=at, exit_to=exit_to,
                                                dwell_seconds=(at - visit.entered_at).total_seconds()))
        kind = self._exit_kind(visit.stage, exit_to)
        self._funnel(at, visit.stage, visit.owner_id, visit.team_id, advanced=int(kind == "advanced"),
                     regressed=int(kind == "regressed"), lost=int(kind == "lost"), open_delta=-1,
                     amount_delta=-(state.current_amount or Decimal(0)))
        self.open_visit = None

    def _exit_kind(self, stage: str, exit_to: str) -> str:
        if exit_to == LOST:
            return "lost"
        if exit_to == WON or self.stages.index(exit_to) > self.stages.index(stage):
            return "advanced"
        return "regressed"

    def _contact(self, state: DealState, fact: Ev, change: Change) -> None:
        self._activity(state, fact, "contact", change.at)

    def _quote(self, state: DealState, fact: Ev, change: Change) -> None:
        self._activity(state, fact, "quote", change.at, amount=change.after)

    def _feedback(self, state: DealState, fact: Ev, change: Change) -> None:
        self._activity(state, fact, "feedback", change.at, score=change.score)
        d = fact.data
        self.facts.feedback.append(FeedbackRow(self.deal_id, fact.stream_version, change.at, _month(change.at),
                                               change.score, d.get("comment"), d.get("from"),
                                               *self._owner_at(state, change.at)))

    def _closed(self, state: DealState, fact: Ev, change: Change) -> None:
        pass  # the final close is read from the final state (a reopen undoes earlier ones)


# Change kind -> the _Rows method building its rows.
_ROW_BUILDERS = {kind: getattr(_Rows, f"_{kind}") for kind in (
    "owner", "created", "amount", "entered", "left", "contact", "quote", "feedback", "closed")}


def derive(deal_id: str, events: Iterable[Ev],
           pipelines: Mapping[str, Pipeline] = PIPELINES) -> DealFacts | None:
    """The deal's read-model rows, or None if it has no (non-voided) deal.created."""
    events = list(events)
    rows = _Rows(deal_id, pipelines)
    state = fold(deal_id, events, pipelines, on_change=rows)
    if not state.exists:
        return None
    kept = business_order(events)
    return _finish(rows, state, max(e.position for e in events), max(e.occurred_at for e in kept), resumed=False)


ANY_TIME = frozenset({"deal.contact_logged", "deal.feedback_recorded"})  # resumable however back-dated


def resumable(point: Point, events: Iterable[Ev]) -> bool:
    """True if folding `events` on from `point` adds what a full derivation would: each is a
    deal event (not a creation or a void) no earlier in business time than all folded so far,
    or a contact or feedback (whenever it happened)."""
    latest = point.latest_at
    for e in events:
        if e.type == "event.voided" or e.type == "deal.created" or not e.type.startswith("deal."):
            return False
        if latest is not None and e.occurred_at < latest and e.type not in ANY_TIME:
            return False
        latest = e.occurred_at if latest is None else max(latest, e.occurred_at)
    return point.state.exists


def resume(point: Point, events: list[Ev], pipelines: Mapping[str, Pipeline] = PIPELINES) -> DealFacts:
    """The rows `events` add to a deal derived up to `point` (check `resumable` first). The
    stored point is not modified."""
    state = copied(point.state)
    rows = _Rows(state.deal_id, pipelines, point)
    for event in events:
        rows(state, event, apply(state, event, pipelines))
    times = [t for t in (point.latest_at, *(e.occurred_at for e in events)) if t is not None]
    return _finish(rows, state, max((point.position, *(e.position for e in events))), max(times), resumed=True)


def _finish(rows: _Rows, state: DealState, position: int, latest_at: datetime | None, resumed: bool) -> DealFacts:
    """Close the derivation: the open visit, the final close (activity seq 0: there is at most
    one, and a reopen takes it back), the current row and the point to resume from."""
    facts = rows.facts
    facts.resumed = resumed
    if rows.open_visit is not None:
        facts.visits.append(rows.open_visit)
    if state.closed:
        at = state.closed_at
        cycle_days = (at - state.created_at).total_seconds() / DAY
        amount = state.signed_amount if state.status == WON else None
        facts.activity.append(ActivityRow(state.deal_id, 0, state.status, at, _month(at),
                                          state.close_owner_id, state.close_team_id, amount, cycle_days))
        facts.cycle = CycleRow(state.deal_id, state.status, state.close_owner_id, state.close_team_id,
                               state.segment, state.pipeline, state.created_at, at, cycle_days)
    facts.current = current_row(state, position)
    facts.point = Point(state, position, latest_at, rows.visit_counts, rows.open_visit, rows.counts, rows.owners)
    return facts


def current_row(state: DealState, last_position: int) -> dict[str, Any]:
    """deal_current: the folded state as BI reads it."""
    return {
        "deal_id": state.deal_id, "title": state.title, "customer_id": state.customer_id,
        "customer_name": state.customer_name, "segment": state.segment, "region": state.region,
        "owner_id": state.owner_id, "team_id": state.team_id, "created_owner_id": state.created_owner_id,
        "created_team_id": state.created_team_id, "source_channel": state.source_channel,
        "pipeline": state.pipeline, "stage": state.stage, "status": state.status,
        "created_at": state.created_at, "stage_entered_at": state.stage_entered_at,
        "last_activity_at": state.last_activity_at, "expected_amount": state.expected_amount,
        "latest_quote_amount": state.latest_quote_amount, "signed_amount": state.signed_amount,
        "current_amount": state.current_amount, "currency": state.currency, "closed_at": state.closed_at,
        "lost_reason": state.lost_reason, "contacts_count": state.contacts_count,
        "last_contact_at": state.last_contact_at,
        # A won deal has passed every open stage.
        "furthest_stage_index": len(state.stages) if state.status == WON else state.furthest_stage_index,
        "entered_stages": list(state.entered_stages), "version": state.version, "last_position": last_position,
        "expected_close_date": state.expected_close_date, "fields": dict(state.fields),
    }
