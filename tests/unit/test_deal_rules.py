"""decide/evolve: every rule of SPEC §2, no database."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain import errors
from domain.deal import DealState, evolve, fold, move_kind
from domain.pipelines import DEFAULT_PIPELINE
from domain.rules import decide
from events.schema import event_adapter
from tests import factories as f

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Fact:
    event_id: str
    type: str
    data: dict
    occurred_at: datetime
    stream_version: int


def run(events, deal_id="d1"):
    """Decide and evolve each body in turn; return the final state and the facts."""
    state, facts = DealState(deal_id=deal_id), []
    for i, body in enumerate(events):
        command = event_adapter.validate_python(body)
        [decided] = decide(state, command, now=NOW, currency="USD", history=facts)
        fact = Fact(f"e{i}", decided.type, decided.data, decided.occurred_at, state.version + 1)
        facts.append(fact)
        state = fold(deal_id, facts) if fact.type == "event.voided" else evolve(state, fact)
    return state, facts


def rejects(events, last, error):
    state, facts = run(events)
    with pytest.raises(error) as info:
        decide(state, event_adapter.validate_python(last), now=NOW, currency="USD", history=facts)
    return info.value


def test_created_deal_starts_open_in_lead():
    state, _ = run([f.created()])
    assert (state.status, state.stage, state.version, state.owner_id) == ("open", "lead", 1, "rep-1")
    assert state.created_at == state.stage_entered_at == NOW


def test_deal_can_be_created_in_a_later_stage():
    state, _ = run([f.created(stage="proposal")])
    assert state.stage == "proposal"


def test_full_happy_path_to_won():
    state, _ = run([f.created(), f.contact(), f.moved("lead", "contacted"), f.quote("950.00"),
                    f.moved("contacted", "needs_analysis"), f.signed("900.00")])
    assert (state.status, state.stage, state.signed_amount, state.latest_quote_amount) == (
        "won", "won", Decimal("900.00"), Decimal("950.00"))
    assert state.contacts_count == 1 and state.closed_at == NOW and state.version == 6


def test_event_for_missing_deal_is_404():
    assert rejects([], f.contact(), errors.DealNotFound).code == "deal_not_found"


def test_created_twice_is_409():
    assert rejects([f.created()], f.created(), errors.DealExists).code == "deal_exists"


def test_stage_move_from_wrong_stage_names_current_stage():
    err = rejects([f.created()], f.moved("proposal", "negotiation"), errors.StageConflict)
    assert err.code == "stage_conflict" and "'lead'" in err.message and err.details["current_stage"] == "lead"


@pytest.mark.parametrize("body", [f.moved("lead", "nowhere"), f.moved("nowhere", "lead"),
                                  f.moved("lead", "won"), f.moved("lead", "lost")])
def test_unknown_or_terminal_stage_is_422(body):
    assert rejects([f.created()], body, errors.UnknownStage).code == "unknown_stage"


def test_unknown_stage_on_create_is_422():
    assert rejects([], f.created(stage="heaven"), errors.UnknownStage).code == "unknown_stage"


def test_unknown_pipeline_is_422():
    assert rejects([], f.created(pipeline="other"), errors.InvalidEvent).code == "validation_error"


def test_move_to_same_stage_is_rejected():
    rejects([f.created()], f.moved("lead", "lead"), errors.InvalidEvent)


def test_skips_and_regressions_are_allowed_and_marked():
    state, _ = run([f.created(), f.moved("lead", "proposal")])
    assert state.last_transition["kind"] == "skip"
    state, _ = run([f.created(), f.moved("lead", "proposal"), f.moved("proposal", "contacted")])
    assert state.last_transition["kind"] == "regression" and state.stage == "contacted"
    assert move_kind(DEFAULT_PIPELINE.keys, "lead", "contacted") == "move"


@pytest.mark.parametrize("closing", [f.signed(), f.lost()])
@pytest.mark.parametrize("body", [f.contact(), f.moved("lead", "contacted"), f.quote(), f.signed(),
                                  f.lost(), {"type": "deal.owner_changed", "data": {"owner_id": "r2"}}])
def test_closed_deal_accepts_only_reopen_feedback_void(closing, body):
    assert rejects([f.created(), closing], body, errors.DealClosed).code == "deal_closed"


def test_closed_deal_accepts_feedback_and_reopen():
    state, _ = run([f.created(), f.lost(), {"type": "deal.feedback_recorded", "data": {"score": 2}},
                    {"type": "deal.reopened", "data": {"to_stage": "proposal"}}])
    assert (state.status, state.stage, state.lost_reason, state.closed_at) == ("open", "proposal", None, None)
    assert state.last_transition["kind"] == "reopen" and state.feedback_count == 1


def test_reopen_of_open_deal_is_409():
    rejects([f.created()], {"type": "deal.reopened", "data": {"to_stage": "lead"}}, errors.DealNotClosed)


def test_reopen_to_unknown_stage_is_422():
    rejects([f.created(), f.lost()], {"type": "deal.reopened", "data": {"to_stage": "x"}},
            errors.UnknownStage)


def test_expected_version_mismatch_reports_actual_version():
    err = rejects([f.created(), f.contact()], f.contact(expected_version=1), errors.VersionConflict)
    assert err.code == "version_conflict" and err.details["actual_version"] == 2


def test_expected_version_match_is_accepted():
    state, _ = run([{**f.created(), "expected_version": 0}, f.contact(expected_version=1)])
    assert state.version == 2


@pytest.mark.parametrize("body", [f.signed(currency="EUR"), f.quote(currency="GBP")])
def test_other_currency_than_reporting_is_422(body):
    err = rejects([f.created()], body, errors.UnsupportedCurrency)
    assert err.code == "unsupported_currency" and err.details["reporting_currency"] == "USD"


def test_created_with_other_currency_is_422():
    rejects([], f.created(currency="EUR"), errors.UnsupportedCurrency)


def test_occurred_at_more_than_5_minutes_ahead_is_422():
    ahead = (NOW + timedelta(minutes=6)).isoformat()
    rejects([f.created()], f.contact(occurred_at=ahead), errors.FutureEvent)
    state, _ = run([f.created(), f.contact(occurred_at=(NOW + timedelta(minutes=4)).isoformat())])
    assert state.contacts_count == 1


def test_backdated_events_are_accepted():
    state, _ = run([{**f.created(), "occurred_at": "2026-01-01T00:00:00Z"}, f.moved("lead", "contacted"),
                    f.contact(occurred_at="2026-01-02T00:00:00Z")])
    assert state.last_contact_at == datetime(2026, 1, 2, tzinfo=timezone.utc)


def at(body, when):
    return {**body, "occurred_at": when}


@pytest.mark.parametrize("body", [f.contact(), f.quote(), f.moved("lead", "contacted"), f.signed(),
                                  f.lost(), {"type": "deal.owner_changed", "data": {"owner_id": "r2"}},
                                  {"type": "deal.feedback_recorded", "data": {"score": 4}}])
def test_nothing_happens_before_the_deal_was_created(body):
    error = rejects([at(f.created(), "2026-11-01T00:00:00Z")], at(body, "2026-10-31T23:59:59Z"),
                    errors.BeforeCreation)
    assert error.code == "before_creation" and error.details["created_at"].startswith("2026-11-01")


@pytest.mark.parametrize("body", [f.moved("contacted", "proposal"), f.signed(), f.lost()])
def test_stage_changes_come_in_business_order(body):
    history = [at(f.created(), "2026-11-01T00:00:00Z"), at(f.moved("lead", "contacted"), "2026-11-11T00:00:00Z")]
    error = rejects(history, at(body, "2026-11-06T00:00:00Z"), errors.OutOfOrder)
    assert error.code == "out_of_order" and "2026-11-11T00:00:00" in error.message


def test_reopen_before_the_close_is_out_of_order():
    history = [at(f.created(), "2026-11-01T00:00:00Z"), at(f.lost(), "2026-11-10T00:00:00Z")]
    body = at({"type": "deal.reopened", "data": {"to_stage": "lead"}}, "2026-11-09T00:00:00Z")
    rejects(history, body, errors.OutOfOrder)


@pytest.mark.parametrize("body", [f.contact(), f.quote("700.00"), {"type": "deal.owner_changed",
                                                                    "data": {"owner_id": "r2"}}])
def test_contacts_quotes_and_owner_changes_may_be_backdated_after_creation(body):
    history = [at(f.created(), "2026-11-01T00:00:00Z"), at(f.moved("lead", "contacted"), "2026-11-11T00:00:00Z")]
    state, facts = run(history)
    decide(state, event_adapter.validate_python(at(body, "2026-11-02T00:00:00Z")), now=NOW,
           currency="USD", history=facts)


def test_a_stage_change_at_the_same_moment_is_in_order():
    state, _ = run([at(f.created(), "2026-11-01T00:00:00Z"), at(f.moved("lead", "contacted"), "2026-11-01T00:00:00Z")])
    assert state.stage == "contacted"


def test_non_deal_event_is_refused_on_a_deal():
    body = {"type": "review.closed", "data": {}}
    rejects([f.created()], body, errors.InvalidEvent)


def _uuid(i):
    return f"00000000-0000-0000-0000-{i:012d}"


def test_void_of_a_stage_move_restores_previous_stage_and_keeps_version():
    facts = [Fact(_uuid(1), "deal.created", event_adapter.validate_python(f.created()).payload_dict(), NOW, 1),
             Fact(_uuid(2), "deal.stage_moved", {"from_stage": "lead", "to_stage": "contacted"}, NOW, 2),
             Fact(_uuid(3), "event.voided", {"event_id": _uuid(2), "reason": "typo"}, NOW, 3)]
    state = fold("d1", facts)
    assert (state.stage, state.version) == ("lead", 3)


def _void_rejected(target_index, error, extra=()):
    facts = [Fact(_uuid(1), "deal.created", event_adapter.validate_python(f.created()).payload_dict(), NOW, 1),
             Fact(_uuid(2), "deal.contact_logged", {"channel": "call"}, NOW, 2), *extra]
    state = fold("d1", facts)
    body = {"type": "event.voided", "data": {"event_id": _uuid(target_index), "reason": "r"}}
    with pytest.raises(error):
        decide(state, event_adapter.validate_python(body), now=NOW, currency="USD", history=facts)


def test_void_of_unknown_event_is_404():
    _void_rejected(9, errors.EventNotFound)


def test_void_of_created_is_refused():
    _void_rejected(1, errors.VoidConflict)


def test_void_twice_is_refused():
    _void_rejected(2, errors.VoidConflict,
                   extra=[Fact(_uuid(3), "event.voided", {"event_id": _uuid(2), "reason": "r"}, NOW, 3)])


def test_only_the_latest_stage_change_can_be_voided():
    facts = [Fact(_uuid(1), "deal.created", f.created()["data"] | {"pipeline": "default", "stage": "lead"}, NOW, 1),
             Fact(_uuid(2), "deal.stage_moved", {"from_stage": "lead", "to_stage": "contacted"}, NOW, 2),
             Fact(_uuid(3), "deal.stage_moved", {"from_stage": "contacted", "to_stage": "proposal"}, NOW, 3),
             Fact(_uuid(4), "deal.contact_logged", {"channel": "call"}, NOW, 4)]
    state = fold("d1", facts)

    def void(i: int):
        return event_adapter.validate_python({"type": "event.voided", "data": {"event_id": _uuid(i), "reason": "r"}})
    with pytest.raises(errors.VoidConflict) as info:
        decide(state, void(2), now=NOW, currency="USD", history=facts)
    assert info.value.details["latest_event_id"] == _uuid(3)
    decide(state, void(3), now=NOW, currency="USD", history=facts)  # the undo
    decide(state, void(4), now=NOW, currency="USD", history=facts)  # not a stage change: any time


def test_undo_of_the_latest_stage_change_restores_stage_and_status():
    created = at(f.created(), "2026-11-01T00:00:00Z")
    state, facts = run([created, at(f.lost(), "2026-11-10T00:00:00Z")])
    lost_id = facts[-1].event_id
    voided = Fact("e9", "event.voided", {"event_id": lost_id, "reason": "wrong deal"}, NOW, 3)
    state = fold("d1", [*facts, voided])
    assert (state.status, state.stage, state.closed_at) == ("open", "lead", None)


def test_void_is_accepted_on_closed_deal():
    state, _ = run([f.created(), f.contact(), f.lost()])
    assert state.status == "lost"


def test_owner_change_keeps_team_unless_given():
    state, _ = run([f.created(), {"type": "deal.owner_changed", "data": {"owner_id": "r2"}}])
    assert (state.owner_id, state.team_id) == ("r2", "team-a")
    state, _ = run([f.created(), {"type": "deal.owner_changed", "data": {"owner_id": "r3", "team_id": "t9"}}])
    assert (state.owner_id, state.team_id) == ("r3", "t9")


def test_evolve_leaves_the_given_state_as_it_was():
    from copy import deepcopy
    state, facts = run([f.created(), f.moved("lead", "contacted")])
    before = deepcopy(state.__dict__)
    for body in (f.moved("contacted", "needs_analysis"),
                 {"type": "deal.updated", "data": {"title": "New", "fields": {"k": "v"}}}):
        [decided] = decide(state, event_adapter.validate_python(body), now=NOW, currency="USD", history=facts)
        after = evolve(state, Fact("x", decided.type, decided.data, decided.occurred_at, state.version + 1))
        assert after is not state and after.version == state.version + 1
        assert state.__dict__ == before  # the stage lists, fields and set_at maps too
