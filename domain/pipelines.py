"""Pipelines: ordered open stages plus the terminal `won` and `lost`."""
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

WON, LOST = "won", "lost"
TERMINAL = (WON, LOST)


@dataclass(frozen=True)
class Stage:
    key: str
    probability: Decimal
    stall_after_days: int | None
    target_conversion: Decimal | None = None


@dataclass(frozen=True)
class Pipeline:
    key: str
    stages: tuple[Stage, ...]  # open stages, in order

    def index(self, stage: str) -> int:
        """0-based index of an open stage; won counts as past every open stage."""
        if stage == WON:
            return len(self.stages)
        return self._indexes[stage]

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.stages)

    @cached_property
    def _indexes(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.keys)}

    def is_open_stage(self, stage: str) -> bool:
        return stage in self._indexes


DEFAULT_PIPELINE = Pipeline("default", (
    Stage("lead", Decimal("0.05"), 14),
    Stage("contacted", Decimal("0.10"), 14),
    Stage("needs_analysis", Decimal("0.20"), 21),
    Stage("proposal", Decimal("0.40"), 21),
    Stage("negotiation", Decimal("0.70"), 30),
))

PIPELINES = {DEFAULT_PIPELINE.key: DEFAULT_PIPELINE}


def with_stages(key: str, stage_keys) -> Pipeline:
    """A pipeline known by its ordered stage keys (all that rules and projections need)."""
    return Pipeline(key, tuple(Stage(k, Decimal(0), None) for k in stage_keys))


def known(definitions: dict[str, list[str]]) -> dict[str, Pipeline]:
    """The code's default pipeline plus the stage lists defined by pipeline.defined events."""
    return {**PIPELINES, **{k: with_stages(k, keys) for k, keys in definitions.items()}}
