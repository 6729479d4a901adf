"""The target aggregate (stream `target:<scope>.<scope_id>.<period>.<metric>`): every
target.set supersedes the previous value; all stay in the history."""
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.schema import EventInBase
from events.streams import Kind, stream_id
from domain import errors
from domain.deal import Decided, Fact


class TargetState(BaseModel):
    model_config = ConfigDict(frozen=True)
    target_id: str
    version: int = 0
    value: str | None = None


def target_id(scope: str, scope_id: str, period: str, metric: str) -> str:
    return f"{scope}.{scope_id}.{period}.{metric}"


def evolve(state: TargetState, fact: Fact) -> TargetState:
    return state.model_copy(update={"version": fact.stream_version, "value": fact.data.get("value")})


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
