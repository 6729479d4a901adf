"""The review aggregate (stream `review:<id>`): opened, actions added and completed, closed."""
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.schema import EventInBase
from domain import errors
from domain.deal import Decided, Fact

REVIEW_TYPES = {"review.opened", "review.action_added", "review.action_completed", "review.closed"}


class ReviewState(BaseModel):
    model_config = ConfigDict(frozen=True)
    review_id: str
    version: int = 0
    status: str | None = None  # open | closed
    actions: dict[str, bool] = {}  # action_id -> completed

    @property
    def exists(self) -> bool:
        return self.status is not None


def evolve(state: ReviewState, fact: Fact) -> ReviewState:
    d, kind = fact.data, fact.type
    changes: dict = {"version": fact.stream_version}
    if kind == "review.opened":
        changes["status"] = "open"
    elif kind == "review.action_added":
        changes["actions"] = {**state.actions, d["action_id"]: False}
    elif kind == "review.action_completed":
        changes["actions"] = {**state.actions, d["action_id"]: True}
    elif kind == "review.closed":
        changes["status"] = "closed"
    return state.model_copy(update=changes)


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
        if state.actions[data.action_id]:
            raise errors.ActionConflict(f"action {data.action_id} is already completed", action_id=data.action_id)
    errors.check_expected_version(command.expected_version, state.version, "review")
    return [Decided(type=kind, data=command.payload_dict(), occurred_at=command.occurred_at or now)]
