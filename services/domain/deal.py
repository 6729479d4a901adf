"""The deal aggregate's write-side pieces; its state and fold live in domain.deal (one fold,
shared with the projections)."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.deal import DealState, Fact, evolve, fold, from_json, move_kind, stages_of, to_json

__all__ = ["DealState", "Decided", "Fact", "FUTURE_TOLERANCE", "evolve", "fold", "from_json",
           "move_kind", "stages_of", "to_json"]


@dataclass(frozen=True)
class Decided:
    """An event decide() chose to append (the store adds ids, versions and hashes)."""
    type: str
    data: dict[str, Any]
    occurred_at: datetime


FUTURE_TOLERANCE = timedelta(minutes=5)
