"""What the review, target and pipeline states share: each is ONE fold over its stream's events,
used by the write side (decide checks the state) and by the read side (projections.loop maps
the same state to rows), as the deal's `domain.deal.fold` is. Pure.

The write side keeps the state in its stream head (events.stream_head.state) as a cache of the
fold, stamped with FOLD_VERSION: a state stored by another version of these folds is not loaded
but folded again from the stream's events (services.appending.load_state)."""
from collections.abc import Callable, Iterable
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict

from domain.deal import Fact

FOLD_VERSION = 1  # bump when a state's fields or their meaning change
S = TypeVar("S", bound="StreamState")


class StreamState(BaseModel):
    model_config = ConfigDict(frozen=True)
    fold_version: int = FOLD_VERSION
    version: int = 0  # the stream version of the last event folded

    @classmethod
    def load(cls, stored: dict[str, Any]) -> Self | None:
        """The stored state, or None when another version of the fold stored it."""
        if stored.get("fold_version") != FOLD_VERSION:
            return None
        return cls.model_validate(stored)


def fold(initial: S, evolve: Callable[[S, Fact], S], facts: Iterable[Fact]) -> S:
    """`initial` after every fact, in stream order."""
    state = initial
    for fact in sorted(facts, key=lambda f: f.stream_version):
        state = evolve(state, fact)
    return state
