"""The pipeline aggregate (stream `pipeline:<key>`): `pipeline.defined` sets each stage's
probability, target conversion and stall threshold. The ordered stage list of a pipeline is
fixed by its first definition (and, for now, must match a pipeline the code knows)."""
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.pipelines import PIPELINES, TERMINAL
from events.schema import EventInBase
from services.domain import errors
from services.domain.deal import Decided, Fact


class PipelineState(BaseModel):
    model_config = ConfigDict(frozen=True)
    pipeline: str
    version: int = 0
    stages: list[str] = []


def evolve(state: PipelineState, fact: Fact) -> PipelineState:
    return state.model_copy(update={"version": fact.stream_version,
                                    "stages": [s["key"] for s in fact.data["stages"]]})


def decide(state: PipelineState, command: EventInBase, *, now: datetime, currency: str,
           history=()) -> list[Decided]:
    if command.type != "pipeline.defined":
        raise errors.InvalidEvent(f"'{command.type}' is not a pipeline event", type=command.type)
    keys = [s.key for s in command.data.stages]
    if len(set(keys)) != len(keys) or set(keys) & set(TERMINAL):
        raise errors.InvalidEvent("stage keys must be unique and not won/lost", stages=keys)
    known = PIPELINES.get(state.pipeline)
    if known is None or keys != list(known.keys):
        raise errors.PipelineConflict(
            f"pipeline '{state.pipeline}' has stages {list(known.keys) if known else []}; changing the "
            f"stage list is not supported yet (only probabilities, target conversions and stall thresholds)",
            stages=keys)
    if command.expected_version is not None and command.expected_version != state.version:
        raise errors.VersionConflict(f"the pipeline is at version {state.version}", actual_version=state.version)
    return [Decided(type="pipeline.defined", data=command.payload_dict(), occurred_at=command.occurred_at or now)]
