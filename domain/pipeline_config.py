"""The pipeline aggregate (stream `pipeline:<key>`): `pipeline.defined` sets a pipeline's ordered
open stages and each stage's probability, target conversion and stall threshold. The stage
list is fixed by the first definition (the code's own for `default`); later definitions change
the parameters only, so every deal keeps the stages it was created with.

`fold` is the pipeline's one fold, and the one source of its stages: decide checks the stage
list of its state; the write side reads the stage lists from the states stored in the stream
heads (events.store.pipeline_stage_lists: current in the appending transaction, which a read
model, lagging the log, could not be); projections.loop maps the same state to the
`pipeline_stage` rows the reports join (so both sides hold one definition, the read side a
projection's lag behind)."""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import computed_field

from domain import errors, stream_state
from domain.deal import Decided, Fact
from domain.pipelines import PIPELINES, TERMINAL
from domain.stream_state import StreamState
from events.schema import EventInBase


@dataclass(frozen=True, slots=True)
class DefinedStage:
    """One open stage of a definition, its parameters as recorded (fixed-point text)."""
    key: str
    probability: Any
    stall_after_days: int | None = None
    target_conversion: Any = None


class PipelineState(StreamState):
    pipeline: str
    definition: tuple[DefinedStage, ...] = ()  # the definition in force (the latest), stages in order

    @computed_field  # stored with the state: events.store.pipeline_stage_lists reads it
    @property
    def stages(self) -> list[str]:
        """The ordered open stage keys."""
        return [s.key for s in self.definition]


def evolve(state: PipelineState, fact: Fact) -> PipelineState:
    """The pipeline after `fact` (its values as recorded, validated when appended)."""
    if fact.type != "pipeline.defined":
        return state.model_copy(update={"version": fact.stream_version})
    definition = tuple(DefinedStage(key=s["key"], probability=s["probability"],
                                    stall_after_days=s.get("stall_after_days"),
                                    target_conversion=s.get("target_conversion"))
                       for s in fact.data["stages"])
    return state.model_copy(update={"version": fact.stream_version, "definition": definition})


def fold(pipeline: str, facts: Iterable[Fact]) -> PipelineState:
    return stream_state.fold(PipelineState(pipeline=pipeline), evolve, facts)


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
