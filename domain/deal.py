"""The deal: its state and the one fold every part of Dealtrail uses. Pure.

`evolve(state, event)` applies one event. Stage changes (created, moved, signed, lost,
reopened) arrive in business order — the write rules (domain.rules) refuse any other — and
every other field takes the value of the event latest in business time (occurred_at, then
stream_version). So applying a deal's events in stream order or in occurred_at order gives the
same deal: the write side folds incrementally in stream order, the projections fold in
business order, and both see one truth.

Applying an event also says what changed (`Change`s); projections turn those into history rows
(stage visits, funnel movements, activity), the write side ignores them."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, NamedTuple, Protocol

from domain.pipelines import LOST, PIPELINES, WON, Pipeline

FUTURE_TOLERANCE = timedelta(minutes=5)  # occurred_at may run this far ahead of the server clock
FOLD_VERSION = 2  # stored states of another version are folded again from their events
Status = Literal["open", "won", "lost"]
STAGE_CHANGING = frozenset({"deal.created", "deal.stage_moved", "deal.signed", "deal.lost", "deal.reopened"})


class Fact(Protocol):
    """What the fold needs of an event: an Envelope or anything shaped like it."""
    event_id: str
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    stream_version: int


@dataclass(frozen=True)
class Decided:
    """An event decide() chose to append (the store adds ids, versions and hashes)."""
    type: str
    data: dict[str, Any]
    occurred_at: datetime


class Change(NamedTuple):
    """What one event did to a deal, for history rows. kind: entered (an open stage), left (an
    open stage, `to` = next stage or won/lost), amount (current amount), contact, quote,
    feedback, created, closed, owner (the owner and team changed). A named tuple: a fold makes
    a few per event (a frozen dataclass's __init__ cost ~3x as much)."""
    kind: str
    at: datetime
    stage: str | None = None
    to: str | None = None
    entered_by: str | None = None
    before: Decimal | None = None
    after: Decimal | None = None
    score: int | None = None


@dataclass
class DealState:
    deal_id: str
    version: int = 0
    title: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    segment: str | None = None
    region: str | None = None
    owner_id: str | None = None
    team_id: str | None = None
    created_owner_id: str | None = None
    created_team_id: str | None = None
    source_channel: str | None = None
    pipeline: str = "default"
    stages: tuple[str, ...] = ()  # the pipeline's open stages when the deal was created
    stage: str | None = None
    status: Status | None = None
    currency: str | None = None
    expected_amount: Decimal | None = None
    latest_quote_amount: Decimal | None = None
    signed_amount: Decimal | None = None
    expected_close_date: date | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    stage_entered_at: datetime | None = None  # also the latest stage change (or creation)
    closed_at: datetime | None = None
    lost_reason: str | None = None
    close_owner_id: str | None = None  # the owner (and team) at the final close
    close_team_id: str | None = None
    contacts_count: int = 0
    last_contact_at: datetime | None = None
    last_quote_at: datetime | None = None
    feedback_count: int = 0
    furthest_stage_index: int = -1  # the furthest open stage entered
    entered_stages: list[str] = field(default_factory=list)
    last_transition: dict[str, Any] | None = None  # {from_stage, to_stage, kind, occurred_at}
    # field -> (occurred_at, version) of its value
    set_at: dict[str, tuple[datetime, int]] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def closed(self) -> bool:
        return self.status in (WON, LOST)

    @property
    def current_amount(self) -> Decimal | None:
        return self.latest_quote_amount if self.latest_quote_amount is not None else self.expected_amount

    @property
    def last_activity_at(self) -> datetime | None:
        """The stall clock: the latest of stage entry, contact and quote."""
        times = [t for t in (self.stage_entered_at, self.last_contact_at, self.last_quote_at) if t]
        return max(times, default=None)

    def index(self, stage: str) -> int:
        return len(self.stages) if stage == WON else self.stages.index(stage)


def stages_of(state: DealState) -> tuple[str, ...]:
    return state.stages or PIPELINES[state.pipeline].keys


def move_kind(stages: tuple[str, ...], from_stage: str | None, to_stage: str) -> str:
    if from_stage is None or from_stage not in stages:
        return "reopen"
    step = stages.index(to_stage) - stages.index(from_stage)
    return "move" if step == 1 else "skip" if step > 1 else "regression"


def business_order(facts: Iterable[Fact]) -> list[Fact]:
    """Non-voided deal events: deal.created first, then by (occurred_at, stream_version)."""
    facts = list(facts)
    voided = {f.data["event_id"] for f in facts if f.type == "event.voided"}
    kept = [f for f in facts if f.type.startswith("deal.") and f.event_id not in voided]
    return sorted(kept, key=lambda f: (f.type != "deal.created", f.occurred_at, f.stream_version))


def copied(state: DealState) -> DealState:
    """A copy that applying events to leaves `state` as it was."""
    after = object.__new__(DealState)  # copy.copy's reduce protocol took 4x as long
    after.__dict__.update(state.__dict__)
    after.fields, after.set_at, after.entered_stages = (dict(state.fields), dict(state.set_at),
                                                        list(state.entered_stages))
    return after


def evolve(state: DealState, fact: Fact, pipelines: Mapping[str, Pipeline] = PIPELINES) -> DealState:
    """The state after `fact` (the given state is left as it was)."""
    after = copied(state)
    apply(after, fact, pipelines)
    return after


def fold(deal_id: str, facts: Iterable[Fact], pipelines: Mapping[str, Pipeline] = PIPELINES,
         on_change=None) -> DealState:
    """The deal after all its events, folded in business order, voided events left out.
    `on_change(state, fact, changes)` sees each step (projections build history rows from it)."""
    facts = list(facts)
    state = DealState(deal_id=deal_id)
    for fact in business_order(facts):
        if not state.exists and fact.type != "deal.created":
            continue  # nothing happens to a deal before it exists
        changes = apply(state, fact, pipelines)
        if on_change is not None:
            on_change(state, fact, changes)
    state.version = max((f.stream_version for f in facts), default=0)
    return state


def apply(state: DealState, fact: Fact, pipelines: Mapping[str, Pipeline] = PIPELINES) -> list[Change]:
    """Apply `fact` to `state` in place; what changed. Voids are the fold's business (they
    remove their event), so an event.voided only moves the version here."""
    handler = _HANDLERS.get(fact.type)
    changes = handler(state, fact.data, fact, pipelines) if handler else []
    state.version = max(state.version, fact.stream_version)
    return changes


def _latest(state: DealState, name: str, fact: Fact) -> bool:
    """True if `fact` is at least as late in business time as what set `name`; records it."""
    key = (fact.occurred_at, fact.stream_version)
    previous = state.set_at.get(name)
    if previous is not None and previous > key:
        return False
    state.set_at[name] = key
    return True


def to_decimal(value) -> Decimal | None:
    """A stored amount (fixed-point text) as a Decimal."""
    return None if value is None else Decimal(value)


def _created(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    at = fact.occurred_at
    customer = d["customer"]
    pipeline = pipelines.get(d.get("pipeline", "default")) or PIPELINES["default"]
    state.title, state.customer_id, state.customer_name = d["title"], customer["id"], customer["name"]
    state.segment, state.region = customer.get("segment"), customer.get("region")
    state.owner_id = state.created_owner_id = d["owner_id"]
    state.team_id = state.created_team_id = d.get("team_id")
    state.source_channel, state.pipeline, state.stages = d.get("source_channel"), pipeline.key, pipeline.keys
    state.currency, state.expected_amount = d.get("currency"), to_decimal(d.get("expected_amount"))
    state.expected_close_date = to_date(d.get("expected_close_date"))
    state.status, state.created_at = "open", at
    for name in ("owner", "title", "expected_amount", "expected_close_date", "customer_name", "customer_segment",
                 "customer_region"):  # the names deal.updated sets them under
        _latest(state, name, fact)
    return [Change("created", at), Change("amount", at, before=None, after=state.current_amount),
            *_enter(state, d.get("stage", "lead"), at, "create", None)]


def to_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _leaving(state: DealState, at: datetime, to: str) -> list[Change]:
    """Leaving the open stage the deal is in (none when it is closed)."""
    if state.status == "open" and state.stage in state.stages:
        return [Change("left", at, stage=state.stage, to=to)]
    return []


def _enter(state: DealState, stage: str, at: datetime, entered_by: str, came_from: str | None) -> list[Change]:
    changes = _leaving(state, at, stage) if came_from is not None else []
    state.last_transition = None if came_from is None and entered_by == "create" else {
        "from_stage": came_from, "to_stage": stage, "kind": entered_by, "occurred_at": at.isoformat()}
    state.stage, state.status, state.stage_entered_at = stage, "open", at
    if stage in state.stages:
        state.furthest_stage_index = max(state.furthest_stage_index, state.index(stage))
        if stage not in state.entered_stages:
            state.entered_stages.append(stage)
        changes.append(Change("entered", at, stage=stage, entered_by=entered_by))
    return changes


def _moved(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    if state.closed:  # only in logs written before the business-time rules: counts as a reopen
        return _reopened(state, d, fact, pipelines)
    kind = move_kind(state.stages, state.stage, d["to_stage"])
    return _enter(state, d["to_stage"], fact.occurred_at, kind, state.stage)


def _reopened(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    came_from = state.stage
    state.closed_at = state.lost_reason = state.signed_amount = None
    state.close_owner_id = state.close_team_id = None
    return _enter(state, d["to_stage"], fact.occurred_at, "reopen", came_from)


def _close(state: DealState, kind: str, fact: Fact) -> list[Change]:
    at = fact.occurred_at
    changes = _leaving(state, at, kind)
    state.last_transition = {"from_stage": state.stage, "to_stage": kind, "kind": "move", "occurred_at": at.isoformat()}
    state.status, state.stage, state.closed_at, state.stage_entered_at = kind, kind, at, at
    state.close_owner_id, state.close_team_id = state.owner_id, state.team_id
    return changes + [Change("closed", at, stage=kind)]


def _signed(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    state.signed_amount, state.currency = Decimal(d["amount"]), d["currency"]
    return _close(state, WON, fact)


def _lost(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    state.lost_reason = d["reason"]
    return _close(state, LOST, fact)


def _contact(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    at = fact.occurred_at
    state.contacts_count += 1
    state.last_contact_at = at if state.last_contact_at is None else max(state.last_contact_at, at)
    return [Change("contact", at)]


def _quote(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    at, amount = fact.occurred_at, Decimal(d["amount"])
    state.last_quote_at = at if state.last_quote_at is None else max(state.last_quote_at, at)
    changes = [Change("quote", at, after=amount)]
    if _latest(state, "quote", fact):
        before = state.current_amount
        state.latest_quote_amount, state.currency = amount, d["currency"]
        changes.append(Change("amount", at, before=before, after=state.current_amount))
    return changes


def _owner(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    if _latest(state, "owner", fact):
        state.owner_id, state.team_id = d["owner_id"], d.get("team_id", state.team_id)
        return [Change("owner", fact.occurred_at)]
    return []


def _feedback(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    state.feedback_count += 1
    return [Change("feedback", fact.occurred_at, score=d["score"])]


def _updated(state: DealState, d: dict, fact: Fact, pipelines) -> list[Change]:
    """deal.updated: each field takes the value of the latest update in business time."""
    at, changes = fact.occurred_at, []
    if "title" in d and _latest(state, "title", fact):
        state.title = d["title"]
    if d.get("expected_amount") is not None and _latest(state, "expected_amount", fact):
        before = state.current_amount
        state.expected_amount, state.currency = Decimal(d["expected_amount"]), d.get("currency", state.currency)
        changes.append(Change("amount", at, before=before, after=state.current_amount))
    if "expected_close_date" in d and _latest(state, "expected_close_date", fact):
        state.expected_close_date = to_date(d["expected_close_date"])
    for name in ("name", "segment", "region"):
        if name in (d.get("customer") or {}) and _latest(state, f"customer_{name}", fact):
            setattr(state, "customer_name" if name == "name" else name, d["customer"][name])
    for key, value in (d.get("fields") or {}).items():
        if _latest(state, f"fields.{key}", fact):
            if value is None:
                state.fields.pop(key, None)
            else:
                state.fields[key] = value
    return changes


_HANDLERS = {
    "deal.created": _created, "deal.contact_logged": _contact, "deal.stage_moved": _moved,
    "deal.quote_issued": _quote, "deal.signed": _signed, "deal.lost": _lost,
    "deal.reopened": _reopened, "deal.owner_changed": _owner, "deal.feedback_recorded": _feedback,
    "deal.updated": _updated,
}
