"""The review aggregate (stream `review:<id>`): opened, actions added and completed, closed.

`fold` is the review's one fold: decide checks its state (exists, closed, which actions are
completed) and projections.loop maps the same state to the `reviews` and `review_actions` rows."""
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from domain import errors, stream_state
from domain.deal import Decided, Fact
from domain.stream_state import StreamState
from events.schema import EventInBase

REVIEW_TYPES = {"review.opened", "review.action_added", "review.action_completed", "review.closed"}


@dataclass(frozen=True, slots=True)
class Opened:
    """What review.opened recorded: why, for which scope, period and metric, and when."""
    trigger: str
    scope: str
    scope_id: str
    period: str
    metric: str
    expected: Any  # numbers as recorded (fixed-point text)
    actual: Any
    notes: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Action:
    action_id: str
    title: str
    owner_id: str
    due_date: date | None
    added_at: datetime
    completed_at: datetime | None = None
    outcome: str | None = None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


class ReviewState(StreamState):
    review_id: str
    status: str | None = None  # open | closed
    opened: Opened | None = None
    actions: dict[str, Action] = {}  # in the order they were added
    closed_at: datetime | None = None
    summary: str | None = None

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def open_actions(self) -> int:
        return sum(1 for a in self.actions.values() if not a.completed)


def evolve(state: ReviewState, fact: Fact) -> ReviewState:
    """The review after `fact`. The records (plain dataclasses: a fold builds them per event, and
    pydantic models cost ~8 us each) hold the events' values as recorded, validated when appended."""
    d, kind = fact.data, fact.type
    changes: dict = {"version": fact.stream_version}
    if kind == "review.opened" and state.opened is None:
        changes["opened"] = Opened(trigger=d["trigger"], scope=d["scope"], scope_id=d["scope_id"], period=d["period"],
                                   metric=d["metric"], expected=d.get("expected"), actual=d.get("actual"),
                                   notes=d.get("notes"), at=fact.occurred_at)
        changes["status"] = state.status or "open"
    elif kind == "review.action_added":
        due = date.fromisoformat(d["due_date"]) if d.get("due_date") else None
        action = Action(action_id=d["action_id"], title=d["title"], owner_id=d["owner_id"], due_date=due,
                        added_at=fact.occurred_at)
        changes["actions"] = {**state.actions, d["action_id"]: action}
    elif kind == "review.action_completed" and d["action_id"] in state.actions:
        done = replace(state.actions[d["action_id"]], completed_at=fact.occurred_at, outcome=d.get("outcome"))
        changes["actions"] = {**state.actions, d["action_id"]: done}
    elif kind == "review.closed":
        changes.update(status="closed", closed_at=fact.occurred_at, summary=d.get("summary"))
    return state.model_copy(update=changes)


def fold(review_id: str, facts: Iterable[Fact]) -> ReviewState:
    return stream_state.fold(ReviewState(review_id=review_id), evolve, facts)


def decide(state: ReviewState, command: EventInBase, *, now: datetime, currency: str,
           history=()) -> list[Decided]:
    kind, data = command.type, command.data
    if kind not in REVIEW_TYPES:
        raise errors.InvalidEvent(f"'{kind}' is not a review event", type=kind)
    if kind == "review.opened":
        if state.exists:
            raise errors.ReviewExists(f"review {state.review_id} already exists", review_id=state.review_id)
    elif not state.exists:
        raise errors.ReviewNotFound(f"review {state.review_id} does not exist", review_id=state.review_id)
    elif state.status == "closed":
        raise errors.ReviewClosed(f"review {state.review_id} is closed", review_id=state.review_id)
    elif kind == "review.action_added" and data.action_id in state.actions:
        raise errors.ActionConflict(f"action {data.action_id} already exists", action_id=data.action_id)
    elif kind == "review.action_completed":
        if data.action_id not in state.actions:
            raise errors.ActionNotFound(f"action {data.action_id} does not exist", action_id=data.action_id)
        if state.actions[data.action_id].completed:
            raise errors.ActionConflict(f"action {data.action_id} is already completed", action_id=data.action_id)
    errors.check_expected_version(command.expected_version, state.version, "review")
    return [Decided(type=kind, data=command.payload_dict(), occurred_at=command.occurred_at or now)]
