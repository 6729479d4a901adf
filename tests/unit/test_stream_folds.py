"""The review, target and pipeline folds (domain/) give the states both sides use, and the
read-model rows (projections.loop.rows) are those states mapped, not a second fold."""
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone

import pytest

from domain import errors, pipeline_config, review, target
from events.schema import event_adapter
from projections.deals.rows import Ev
from projections.loop.rows import derive_stream, pipeline_rows, review_rows, target_rows

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def events(*specs):
    """Ev per (type, days after T0, data), in stream order."""
    return [Ev(f"e{n}", kind, n, 100 + n, T0 + timedelta(days=days), data)
            for n, (kind, days, data) in enumerate(specs, start=1)]


OPENED = {"trigger": "deviation", "scope": "rep", "scope_id": "r1", "period": "2026-01", "metric": "revenue",
          "expected": "1000", "actual": "250"}
REVIEW = events(("review.opened", 0, OPENED),
                ("review.action_added", 1, {"action_id": "a1", "title": "call", "owner_id": "r1",
                                            "due_date": "2026-01-20"}),
                ("review.action_added", 1, {"action_id": "a2", "title": "quote", "owner_id": "r2"}),
                ("review.action_completed", 3, {"action_id": "a1", "outcome": "called"}),
                ("review.closed", 4, {"summary": "back on track"}))


def test_the_review_fold_holds_what_decide_checks_and_what_the_rows_show():
    state = review.fold("rv1", reversed(REVIEW))  # stream order, whatever order they come in
    assert (state.review_id, state.version, state.status, state.summary) == ("rv1", 5, "closed", "back on track")
    assert asdict(state.opened) == {**OPENED, "notes": None, "at": T0}
    a1, a2 = state.actions.values()
    assert (a1.title, a1.due_date, a1.completed_at, a1.outcome) == ("call", date(2026, 1, 20), T0 + timedelta(3),
                                                                    "called")
    assert (a2.completed, a2.due_date, state.open_actions) == (False, None, 1)
    assert review_rows(state) == {
        "reviews": [("rv1", "deviation", "rep", "r1", "2026-01", "revenue", "1000", "250", None, "closed", T0,
                     T0 + timedelta(4), "back on track", 2, 1, 5)],
        "review_actions": [("rv1", "a1", "call", "r1", date(2026, 1, 20), T0 + timedelta(1), T0 + timedelta(3),
                            "called"),
                           ("rv1", "a2", "quote", "r2", None, T0 + timedelta(1), None, None)]}
    assert derive_stream("review:rv1", REVIEW) == review_rows(state)


def test_decide_reads_the_same_review_state():
    command = event_adapter.validate_python({"type": "review.action_completed", "data": {"action_id": "a1"}})
    with pytest.raises(errors.ReviewClosed):
        review.decide(review.fold("rv1", REVIEW), command, now=T0, currency="USD")
    with pytest.raises(errors.ActionConflict):  # a1 is completed in the state before the close
        review.decide(review.fold("rv1", REVIEW[:4]), command, now=T0, currency="USD")
    assert review.decide(review.fold("rv1", REVIEW[:3]), command, now=T0, currency="USD")[0].data == {"action_id": "a1"}


def test_the_target_fold_keeps_every_value_and_the_one_in_force():
    data = {"scope": "rep", "scope_id": "r1", "period": "2026-Q1", "metric": "revenue"}
    stream = events(("target.set", 0, {**data, "value": "900"}), ("target.set", 2, {**data, "value": "1200"}))
    state = target.fold("rep.r1.2026-Q1.revenue", stream)
    assert (state.version, state.value, state.period, [v.value for v in state.history]) == (2, "1200", "2026-Q1",
                                                                                            ["900", "1200"])
    assert target_rows(state) == {
        "targets": [("rep.r1.2026-Q1.revenue", "rep", "r1", "2026-Q1", date(2026, 1, 1), date(2026, 4, 1),
                     "revenue", "1200", 2, T0 + timedelta(2))],
        "target_history": [("rep.r1.2026-Q1.revenue", 1, "900", T0),
                           ("rep.r1.2026-Q1.revenue", 2, "1200", T0 + timedelta(2))]}
    assert target_rows(target.fold("x", [])) == {}


def test_the_pipeline_fold_holds_the_definition_in_force():
    first = [{"key": "qualify", "probability": "0.2", "stall_after_days": 7}, {"key": "commit", "probability": "0.8"}]
    second = [{**first[0], "target_conversion": "0.5"}, {"key": "commit", "probability": "0.9", "stall_after_days": 3}]
    state = pipeline_config.fold("renewals", events(("pipeline.defined", 0, {"stages": first}),
                                                    ("pipeline.defined", 1, {"stages": second})))
    assert (state.version, state.stages) == (2, ["qualify", "commit"])
    assert pipeline_rows(state) == {"pipeline_stage": [("renewals", "qualify", 0, "0.2", 7, "0.5"),
                                                       ("renewals", "commit", 1, "0.9", 3, None)]}
    assert pipeline_rows(pipeline_config.fold("renewals", [])) == {}


def test_a_state_stored_by_another_fold_version_is_not_loaded():
    state = review.fold("rv1", REVIEW[:3])
    stored = state.model_dump(mode="json")
    assert review.ReviewState.load(stored) == state
    assert review.ReviewState.load({"review_id": "rv1", "version": 3, "status": "open",
                                    "actions": {"a1": False, "a2": False}}) is None  # before the one fold
    assert target.TargetState.load({"target_id": "t", "version": 1, "value": "9"}) is None
    assert pipeline_config.PipelineState.load({"pipeline": "p", "version": 1, "stages": ["a"]}) is None
    assert stored["fold_version"] == 1
