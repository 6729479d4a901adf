"""Which aggregate owns a stream: `review:<id>`, `target:<id>`, else a deal."""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain import deal, deal_codec, pipeline_config, review, rules, target
from events.streams import Kind, StreamId


@dataclass(frozen=True)
class Aggregate:
    initial: Callable[[str], Any]
    load: Callable[[dict], Any]
    decide: Callable[..., list]
    evolve: Callable[[Any, Any], Any]
    dump: Callable[[Any], dict] = lambda state: state.model_dump(mode="json")
    fold: Callable[..., Any] | None = None  # (stream_id, facts, pipelines): a stream's state from all its events


def _ignoring_pipelines(fn):
    """Only deals depend on pipeline definitions; other aggregates take and ignore them."""
    def wrapped(*args, pipelines=None, **kwargs):
        return fn(*args, **kwargs)
    return wrapped


# load may answer None: the state was stored by another fold version; fold the stream again.
DEAL = Aggregate(initial=lambda s: deal.DealState(deal_id=s), load=deal_codec.from_json, dump=deal_codec.to_stored,
                 decide=rules.decide, evolve=lambda s, f, pipelines: deal.evolve(s, f, pipelines),
                 fold=lambda d, facts, pipelines: deal.fold(d, facts, pipelines))
# The review, target and pipeline folds (domain.stream_state): load answers None for a state
# stored by another fold version, which is then folded again from the stream's events.
REVIEW = Aggregate(initial=lambda s: review.ReviewState(review_id=StreamId.parse(s).key),
                   load=review.ReviewState.load, decide=_ignoring_pipelines(review.decide),
                   evolve=lambda s, f, pipelines: review.evolve(s, f),
                   fold=lambda s, facts, pipelines: review.fold(StreamId.parse(s).key, facts))
TARGET = Aggregate(initial=lambda s: target.TargetState(target_id=StreamId.parse(s).key),
                   load=target.TargetState.load, decide=_ignoring_pipelines(target.decide),
                   evolve=lambda s, f, pipelines: target.evolve(s, f),
                   fold=lambda s, facts, pipelines: target.fold(StreamId.parse(s).key, facts))
PIPELINE = Aggregate(initial=lambda s: pipeline_config.PipelineState(pipeline=StreamId.parse(s).key),
                     load=pipeline_config.PipelineState.load,
                     decide=_ignoring_pipelines(pipeline_config.decide),
                     evolve=lambda s, f, pipelines: pipeline_config.evolve(s, f),
                     fold=lambda s, facts, pipelines: pipeline_config.fold(StreamId.parse(s).key, facts))


_BY_KIND = {Kind.DEAL: DEAL, Kind.REVIEW: REVIEW, Kind.TARGET: TARGET, Kind.PIPELINE: PIPELINE}


def aggregate_for(stream_id: str) -> Aggregate:
    return _BY_KIND[StreamId.parse(stream_id).kind]
