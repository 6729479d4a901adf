"""The deal aggregate: state folded from events (`evolve`) and rules (`decide`). Pure."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from events.pipelines import LOST, PIPELINES, WON, Pipeline

Status = Literal["open", "won", "lost"]
MoveKind = Literal["move", "skip", "regression", "reopen"]


class Fact(Protocol):
    """What evolve needs of an event: an Envelope or anything shaped like it."""
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


class Transition(BaseModel):
    model_config = ConfigDict(frozen=True)
    from_stage: str
    to_stage: str
    kind: MoveKind
    occurred_at: datetime


class DealState(BaseModel):
    model_config = ConfigDict(frozen=True)

    deal_id: str
    version: int = 0
    title: str | None = None
    customer: dict[str, Any] | None = None
    owner_id: str | None = None
    team_id: str | None = None
    pipeline: str = "default"
    stage: str | None = None
    status: Status | None = None
    currency: str | None = None
    expected_amount: str | None = None
    latest_quote_amount: str | None = None
    signed_amount: str | None = None
    created_at: datetime | None = None
    stage_entered_at: datetime | None = None
    closed_at: datetime | None = None
    lost_reason: str | None = None
    contacts_count: int = 0
    last_contact_at: datetime | None = None
    feedback_count: int = 0
    last_transition: Transition | None = None
    stages: tuple[str, ...] = ()  # the pipeline's open stages when the deal was created

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def closed(self) -> bool:
        return self.status in (WON, LOST)


def stages_of(state: DealState) -> tuple[str, ...]:
    return state.stages or PIPELINES[state.pipeline].keys


def move_kind(stages: tuple[str, ...], from_stage: str, to_stage: str) -> MoveKind:
    step = stages.index(to_stage) - stages.index(from_stage)
    return "move" if step == 1 else "skip" if step > 1 else "regression"


def evolve(state: DealState, fact: Fact, pipelines: Mapping[str, Pipeline] = PIPELINES) -> DealState:
    handler = _EVOLVERS.get(fact.type)
    changes = handler(state, fact.data, fact.occurred_at) if handler else {}
    if fact.type == "deal.created":
        changes["stages"] = pipelines[fact.data["pipeline"]].keys
    return state.model_copy(update={**changes, "version": fact.stream_version})


def fold(deal_id: str, facts: list[Fact], pipelines: Mapping[str, Pipeline] = PIPELINES) -> DealState:
    """State from a whole stream; voided events count as never having happened."""
    voided = {f.data["event_id"] for f in facts if f.type == "event.voided"}
    state = DealState(deal_id=deal_id)
    for fact in facts:
        if fact.event_id in voided or fact.type == "event.voided":
            state = state.model_copy(update={"version": fact.stream_version})
        else:
            state = evolve(state, fact, pipelines)
    return state


def _created(state, data, at):
    return dict(
        title=data["title"], customer=data["customer"], owner_id=data["owner_id"],
        team_id=data.get("team_id"), pipeline=data["pipeline"], stage=data["stage"],
        status="open", currency=data.get("currency"), expected_amount=data.get("expected_amount"),
        created_at=at, stage_entered_at=at)


def _contact(state, data, at):
    last = state.last_contact_at
    return dict(contacts_count=state.contacts_count + 1,
                last_contact_at=at if last is None or at > last else last)


def _moved(state, data, at):
    kind = move_kind(stages_of(state), data["from_stage"], data["to_stage"])
    return dict(stage=data["to_stage"], stage_entered_at=at,
                last_transition=Transition(from_stage=data["from_stage"], to_stage=data["to_stage"],
                                           kind=kind, occurred_at=at))


def _quote(state, data, at):
    return dict(latest_quote_amount=data["amount"], currency=data["currency"])


def _signed(state, data, at):
    return dict(status=WON, stage=WON, signed_amount=data["amount"], currency=data["currency"],
                closed_at=at, stage_entered_at=at, last_transition=Transition(
                    from_stage=state.stage, to_stage=WON, kind="move", occurred_at=at))


def _lost(state, data, at):
    return dict(status=LOST, stage=LOST, lost_reason=data["reason"], closed_at=at,
                stage_entered_at=at, last_transition=Transition(
                    from_stage=state.stage, to_stage=LOST, kind="move", occurred_at=at))


def _reopened(state, data, at):
    return dict(status="open", stage=data["to_stage"], closed_at=None, lost_reason=None,
                signed_amount=None, stage_entered_at=at, last_transition=Transition(
                    from_stage=state.stage, to_stage=data["to_stage"], kind="reopen", occurred_at=at))


def _owner(state, data, at):
    return dict(owner_id=data["owner_id"], team_id=data.get("team_id", state.team_id))


def _feedback(state, data, at):
    return dict(feedback_count=state.feedback_count + 1)


_EVOLVERS = {
    "deal.created": _created, "deal.contact_logged": _contact, "deal.stage_moved": _moved,
    "deal.quote_issued": _quote, "deal.signed": _signed, "deal.lost": _lost,
    "deal.reopened": _reopened, "deal.owner_changed": _owner, "deal.feedback_recorded": _feedback,
}

FUTURE_TOLERANCE = timedelta(minutes=5)
