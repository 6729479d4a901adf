"""Read-model rows of target, review and pipeline streams (pure), like projections.deals.rows for deals:
each stream is folded once, by its aggregate's own fold in domain/ (the one the write side decides
with), and its rows are a mapping of that state; nothing here folds events again."""
from collections.abc import Iterable

from domain import pipeline_config, review, target
from domain.pipeline_config import PipelineState
from domain.review import ReviewState
from domain.target import TargetState
from events import periods
from events.streams import Kind, StreamId
from projections.deals.rows import Ev


def derive_stream(stream_id: str, events: Iterable[Ev]) -> dict[str, list[tuple]]:
    """{table: rows} for a target:, review: or pipeline: stream (empty for anything else)."""
    stream = StreamId.parse(stream_id)
    fold_and_map = _ROWS.get(stream.kind)
    if fold_and_map is None:
        return {}
    fold, rows = fold_and_map
    return rows(fold(stream.key, events))


def pipeline_rows(state: PipelineState) -> dict[str, list[tuple]]:
    """The definition in force: one pipeline_stage row per open stage, in order."""
    if not state.definition:
        return {}
    return {"pipeline_stage": [(state.pipeline, s.key, i, s.probability, s.stall_after_days, s.target_conversion)
                               for i, s in enumerate(state.definition)]}


def target_rows(state: TargetState) -> dict[str, list[tuple]]:
    """The value in force (targets) and every value set (target_history)."""
    current = state.current
    if current is None:
        return {}
    start, end = periods.parse(state.period)
    row = (state.target_id, state.scope, state.scope_id, state.period, start, end, state.metric,
           current.value, current.version, current.set_at)
    history = [(state.target_id, v.version, v.value, v.set_at) for v in state.history]
    return {"targets": [row], "target_history": history}


def review_rows(state: ReviewState) -> dict[str, list[tuple]]:
    """The review (reviews) and its actions (review_actions)."""
    o = state.opened
    if o is None:
        return {}
    periods.parse(o.period)  # a review of a period the reports cannot handle is not applied
    row = (state.review_id, o.trigger, o.scope, o.scope_id, o.period, o.metric, o.expected, o.actual, o.notes,
           "closed" if state.closed_at is not None else "open", o.at, state.closed_at, state.summary,
           len(state.actions), state.open_actions, state.version)
    actions = [(state.review_id, a.action_id, a.title, a.owner_id, a.due_date, a.added_at, a.completed_at, a.outcome)
               for a in state.actions.values()]
    return {"reviews": [row], "review_actions": actions}


_ROWS = {Kind.TARGET: (target.fold, target_rows), Kind.REVIEW: (review.fold, review_rows),
         Kind.PIPELINE: (pipeline_config.fold, pipeline_rows)}
