"""The target aggregate (stream `target:<scope>.<scope_id>.<period>.<metric>`): every
target.set supersedes the previous value; all stay in the history.

`fold` is the target's one fold: decide checks its version, projections.loop maps the same state
to the `targets` row (the value in force) and the `target_history` rows (every value set)."""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import errors, stream_state
from domain.deal import Decided, Fact
from domain.stream_state import StreamState
from events.schema import EventInBase
from events.streams import Kind, stream_id


@dataclass(frozen=True, slots=True)
class TargetVersion:
    """One target.set: the stream version it took, the value, when it was set (business time)."""
    version: int
    value: Any  # as recorded (fixed-point text, or a count)
    set_at: datetime


class TargetState(StreamState):
    target_id: str
    scope: str | None = None  # of the latest target.set (the stream id fixes them all)
    scope_id: str | None = None
    period: str | None = None
    metric: str | None = None
    history: tuple[TargetVersion, ...] = ()  # every value set, oldest first

    @property
    def current(self) -> TargetVersion | None:
        """The value in force: the latest set."""
        return self.history[-1] if self.history else None

    @property
    def value(self) -> Any:
        return self.current.value if self.current else None


def target_id(scope: str, scope_id: str, period: str, metric: str) -> str:
    return f"{scope}.{scope_id}.{period}.{metric}"


def evolve(state: TargetState, fact: Fact) -> TargetState:
    """The target after `fact` (its values as recorded, validated when appended)."""
    if fact.type != "target.set":
        return state.model_copy(update={"version": fact.stream_version})
    d = fact.data
    set_ = TargetVersion(version=fact.stream_version, value=d["value"], set_at=fact.occurred_at)
    return state.model_copy(update={"version": fact.stream_version, "scope": d["scope"], "scope_id": d["scope_id"],
                                    "period": d["period"], "metric": d["metric"], "history": (*state.history, set_)})


def fold(target_id_: str, facts: Iterable[Fact]) -> TargetState:
    return stream_state.fold(TargetState(target_id=target_id_), evolve, facts)


def decide(state: TargetState, command: EventInBase, *, now: datetime, currency: str,
           history=()) -> list[Decided]:
    if command.type != "target.set":
        raise errors.InvalidEvent(f"'{command.type}' is not a target event", type=command.type)
    d = command.data
    expected = target_id(d.scope, d.scope_id, d.period, d.metric)
    if expected != state.target_id:
        raise errors.InvalidEvent(f"a target.set for {stream_id(Kind.TARGET, expected)} cannot go to "
                                  f"{stream_id(Kind.TARGET, state.target_id)}")
    errors.check_expected_version(command.expected_version, state.version, "target")
    return [Decided(type="target.set", data=command.payload_dict(), occurred_at=command.occurred_at or now)]
