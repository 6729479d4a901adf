"""Everything the sales read models hold about one deal, derived from its events. Pure.

The deal's events are folded in business-time order (occurred_at, then stream_version), with
voided events left out, so a back-dated event lands where it happened and a void makes its
event never have happened. Every read-model row of a deal is a function of its events only:
incremental projection, rebuild and replay agree by construction."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from events.pipelines import LOST, PIPELINES, WON, Pipeline

DAY = 86400.0


class Ev(NamedTuple):
    """The part of an envelope the projections use."""
    event_id: str
    type: str
    stream_version: int
    position: int
    occurred_at: datetime
    data: dict[str, Any]


@dataclass
class DealFacts:
    current: dict[str, Any]
    visits: list[tuple] = field(default_factory=list)      # deal_stage_history rows
    amounts: list[tuple] = field(default_factory=list)     # deal_amount_history rows
    activity: list[tuple] = field(default_factory=list)    # deal_activity rows
    funnel: list[tuple] = field(default_factory=list)      # funnel_delta rows
    feedback: list[tuple] = field(default_factory=list)    # feedback rows
    cycle: tuple | None = None                             # cycle_time_deal row


def business_order(events: Iterable[Ev]) -> list[Ev]:
    """Non-voided deal events, deal.created first, then by (occurred_at, stream_version)."""
    events = list(events)
    voided = {e.data["event_id"] for e in events if e.type == "event.voided"}
    kept = [e for e in events if e.type != "event.voided" and e.event_id not in voided
            and e.type.startswith("deal.")]
    return sorted(kept, key=lambda e: (e.type != "deal.created", e.occurred_at, e.stream_version))


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def _month(at: datetime) -> date:
    return date(at.year, at.month, 1)


class _Fold:
    """Mutable fold state; one instance per derive() call."""

    def __init__(self, deal_id: str, created: Ev, pipelines: Mapping[str, Pipeline]):
        d = created.data
        self.deal_id, self.at = deal_id, created.occurred_at
        self.pipeline = pipelines.get(d["pipeline"]) or PIPELINES["default"]
        self.owner, self.team = d["owner_id"], d.get("team_id")
        self.expected, self.quote = _money(d.get("expected_amount")), None
        self.status, self.stage, self.stage_entered_at = "open", None, created.occurred_at
        self.closed_at = self.lost_reason = self.signed = None
        self.contacts, self.last_contact_at, self.last_quote_at = 0, None, None
        self.furthest, self.entered = -1, []
        self.visit_counts: dict[str, int] = {}
        self.open_visit: list | None = None
        self.facts = DealFacts(current={})
        self.close: tuple | None = None  # (kind, at, owner, team, amount) of the latest close
        self._amount_at(created.occurred_at)
        self.enter(d["stage"], created.occurred_at, "create")
        self.activity("created", created.occurred_at)

    @property
    def amount(self) -> Decimal | None:
        return self.quote if self.quote is not None else self.expected

    def _amount_at(self, at: datetime) -> None:
        amounts = self.facts.amounts
        amounts.append((self.deal_id, at, len(amounts) + 1, self.amount))

    def activity(self, kind: str, at: datetime, amount=None, cycle=None, score=None) -> None:
        rows = self.facts.activity
        rows.append((self.deal_id, len(rows) + 1, kind, at, _month(at), self.owner, self.team,
                     amount, cycle, score))

    def funnel(self, at: datetime, stage: str, owner, team, entered=0, advanced=0, regressed=0,
               lost=0, open_delta=0, amount_delta=Decimal(0)) -> None:
        rows = self.facts.funnel
        rows.append((self.deal_id, len(rows) + 1, at.date(), self.pipeline.key, stage, owner, team,
                     entered, advanced, regressed, lost, open_delta, amount_delta))

    def leave(self, at: datetime, exit_to: str) -> None:
        """Close the open visit (if any) with an exit to `exit_to`."""
        visit = self.open_visit
        if visit is None:
            return
        stage, owner, team = visit[1], visit[9], visit[10]
        visit[5], visit[6], visit[7] = at, (at - visit[4]).total_seconds(), exit_to
        kind = self._exit_kind(stage, exit_to)
        self.funnel(at, stage, owner, team, advanced=int(kind == "advanced"),
                    regressed=int(kind == "regressed"), lost=int(kind == "lost"), open_delta=-1,
                    amount_delta=-(self.amount or Decimal(0)))
        self.facts.visits.append(tuple(visit))
        self.open_visit = None

    def _exit_kind(self, stage: str, exit_to: str) -> str:
        if exit_to == LOST:
            return "lost"
        if exit_to == WON or self.pipeline.index(exit_to) > self.pipeline.index(stage):
            return "advanced"
        return "regressed"

    def enter(self, stage: str, at: datetime, entered_by: str) -> None:
        if not self.pipeline.is_open_stage(stage):
            return
        self.leave(at, stage)
        count = self.visit_counts.get(stage, 0) + 1
        self.visit_counts[stage] = count
        self.open_visit = [self.deal_id, stage, count, self.pipeline.key, at, None, None, None,
                           entered_by, self.owner, self.team]
        self.funnel(at, stage, self.owner, self.team, entered=1, open_delta=1,
                    amount_delta=self.amount or Decimal(0))
        self.stage, self.stage_entered_at, self.status = stage, at, "open"
        self.furthest = max(self.furthest, self.pipeline.index(stage))
        if stage not in self.entered:
            self.entered.append(stage)

    def move_kind(self, to_stage: str) -> str:
        if self.stage is None or not self.pipeline.is_open_stage(self.stage):
            return "reopen"
        step = self.pipeline.index(to_stage) - self.pipeline.index(self.stage)
        return "move" if step == 1 else "skip" if step > 1 else "regression"

    def set_amount(self, quote: Decimal, at: datetime) -> None:
        before = self.amount or Decimal(0)
        self.quote = quote
        self._amount_at(at)
        visit = self.open_visit
        if visit is not None and self.amount != before:
            self.funnel(at, visit[1], visit[9], visit[10], amount_delta=(self.amount or 0) - before)

    def reopen(self) -> None:
        self.closed_at = self.lost_reason = self.signed = self.close = self.stage = None

    def closing(self, kind: str, at: datetime, amount=None) -> None:
        self.leave(at, kind)
        self.status, self.stage, self.closed_at, self.stage_entered_at = kind, kind, at, at
        self.close = (kind, at, self.owner, self.team, amount)


def _apply(fold: _Fold, ev: Ev) -> None:
    d, at = ev.data, ev.occurred_at
    kind = ev.type
    if kind == "deal.contact_logged":
        fold.contacts += 1
        fold.last_contact_at = max(fold.last_contact_at or at, at)
        fold.activity("contact", at)
    elif kind == "deal.stage_moved":
        entered_by = fold.move_kind(d["to_stage"])
        if fold.status != "open":  # out of business order after a close: counts as a reopen
            fold.reopen()
        fold.enter(d["to_stage"], at, entered_by)
    elif kind == "deal.quote_issued":
        fold.last_quote_at = max(fold.last_quote_at or at, at)
        fold.set_amount(Decimal(d["amount"]), at)
        fold.activity("quote", at, amount=Decimal(d["amount"]))
    elif kind == "deal.signed":
        fold.signed = Decimal(d["amount"])
        fold.closing(WON, at, fold.signed)
    elif kind == "deal.lost":
        fold.lost_reason = d["reason"]
        fold.closing(LOST, at)
    elif kind == "deal.reopened":
        fold.reopen()
        fold.enter(d["to_stage"], at, "reopen")
    elif kind == "deal.owner_changed":
        fold.owner, fold.team = d["owner_id"], d.get("team_id", fold.team)
    elif kind == "deal.feedback_recorded":
        fold.activity("feedback", at, score=d["score"])
        rows = fold.facts.feedback
        rows.append((fold.deal_id, len(rows) + 1, at, _month(at), d["score"], d.get("comment"),
                     d.get("from"), fold.owner, fold.team))


def derive(deal_id: str, events: Iterable[Ev],
           pipelines: Mapping[str, Pipeline] = PIPELINES) -> DealFacts | None:
    """The deal's read-model rows, or None if it has no (non-voided) deal.created. `pipelines`
    gives each pipeline's ordered stages (fixed by its first definition)."""
    all_events = list(events)
    ordered = business_order(all_events)
    if not ordered or ordered[0].type != "deal.created":
        return None
    created = ordered[0]
    fold = _Fold(deal_id, created, pipelines)
    for ev in ordered[1:]:
        _apply(fold, ev)
    if fold.open_visit is not None:
        fold.facts.visits.append(tuple(fold.open_visit))
    _finish(fold, created, all_events)
    return fold.facts


def _finish(fold: _Fold, created: Ev, all_events: list[Ev]) -> None:
    facts, d = fold.facts, created.data
    customer = d["customer"]
    created_at = created.occurred_at
    if fold.close is not None:
        kind, at, owner, team, amount = fold.close
        cycle_days = (at - created_at).total_seconds() / DAY
        facts.activity.append((fold.deal_id, len(facts.activity) + 1, kind, at, _month(at), owner,
                               team, amount, cycle_days, None))
        facts.cycle = (fold.deal_id, kind, owner, team, customer.get("segment"), fold.pipeline.key,
                       created_at, at, cycle_days)
    last = max(all_events, key=lambda e: e.stream_version)
    activity_times = [t for t in (fold.stage_entered_at, fold.last_contact_at, fold.last_quote_at) if t]
    facts.current = {
        "deal_id": fold.deal_id, "title": d["title"], "customer_id": customer["id"],
        "customer_name": customer["name"], "segment": customer.get("segment"),
        "region": customer.get("region"), "owner_id": fold.owner, "team_id": fold.team,
        "created_owner_id": d["owner_id"], "created_team_id": d.get("team_id"),
        "source_channel": d.get("source_channel"), "pipeline": fold.pipeline.key,
        "stage": fold.stage, "status": fold.status, "created_at": created_at,
        "stage_entered_at": fold.stage_entered_at, "last_activity_at": max(activity_times),
        "expected_amount": fold.expected, "latest_quote_amount": fold.quote,
        "signed_amount": fold.signed, "current_amount": fold.amount, "currency": d.get("currency"),
        "closed_at": fold.closed_at, "lost_reason": fold.lost_reason,
        "contacts_count": fold.contacts, "last_contact_at": fold.last_contact_at,
        # A won deal has passed every open stage.
        "furthest_stage_index": len(fold.pipeline.stages) if fold.status == WON else fold.furthest,
        "entered_stages": fold.entered,
        "version": last.stream_version, "last_position": max(e.position for e in all_events),
    }
