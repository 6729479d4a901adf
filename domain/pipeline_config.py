"""The pipeline aggregate (stream `pipeline:<key>`): `pipeline.defined` sets a pipeline's ordered
open stages and each stage's probability, target conversion and stall threshold. The stage
list is fixed by the first definition (the code's own for `default`); later definitions change
the parameters only, so every deal keeps the stages it was created with."""
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.pipelines import PIPELINES, TERMINAL
from events.schema import EventInBase
from domain import errors
from domain.deal import Decided, Fact


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
    fixed = state.stages or (list(PIPELINES[state.pipeline].keys) if state.pipeline in PIPELINES else None)
    if fixed is not None and keys != fixed:
        raise errors.PipelineConflict(
            f"pipeline '{state.pipeline}' has stages {fixed}; its stage list cannot change (define a "
            f"new pipeline instead); probabilities, target conversions and stall thresholds can",
            stages=keys)
    errors.check_expected_version(command.expected_version, state.version, "pipeline")
    return [Decided(type="pipeline.defined", data=command.payload_dict(), occurred_at=command.occurred_at or now)]
