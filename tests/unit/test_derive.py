"""Hand-computed read-model rows for one deal: skips, regressions, reopen, void, back-dating,
owner attribution, funnel deltas."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from projections.deals.rows import Ev, derive

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)


class Stream:
    def __init__(self, **created):
        self.events = []
        data = {"title": "t", "customer": {"id": "c", "name": "C", "segment": "smb"},
                "owner_id": "r1", "team_id": "t1", "pipeline": "default", "stage": "lead",
                "expected_amount": "1000"}
        data.update(created)
        self.add("deal.created", 0, data)

    def add(self, kind, days, data=None):
        n = len(self.events) + 1
        self.events.append(Ev(f"e{n}", kind, n, n * 10, T0 + timedelta(days=days), data or {}))
        return f"e{n}"

    def move(self, days, to):
        return self.add("deal.stage_moved", days, {"from_stage": "?", "to_stage": to})

    def facts(self):
        return derive("d1", self.events)


def visits(facts):
    return [(v.stage, v.visit, v.entered_by, v.exit_to,
             v.dwell_seconds / 86400 if v.dwell_seconds is not None else None)
            for v in facts.visits]


def test_straight_path_to_won():
    s = Stream()
    s.move(2, "contacted")
    s.move(5, "proposal")
    s.add("deal.signed", 10, {"amount": "900", "currency": "USD"})
    f = s.facts()
    assert visits(f) == [("lead", 1, "create", "contacted", 2.0), ("contacted", 1, "move", "proposal", 3.0),
                         ("proposal", 1, "skip", "won", 5.0)]  # needs_analysis was skipped
    c = f.current
    assert (c["status"], c["stage"], c["furthest_stage_index"], c["signed_amount"]) == ("won", "won", 5, Decimal("900"))
    assert c["entered_stages"] == ["lead", "contacted", "proposal"]
    assert f.cycle.outcome == "won" and f.cycle.cycle_days == 10.0
    assert [a.kind for a in f.activity] == ["created", "won"]


def test_skip_is_marked_and_reaches_skipped_stages():
    s = Stream()
    s.move(1, "proposal")
    f = s.facts()
    assert visits(f)[1][:3] == ("proposal", 1, "skip")
    assert f.current["furthest_stage_index"] == 3 and f.current["entered_stages"] == ["lead", "proposal"]


def test_regression_and_re_entry_add_visits():
    s = Stream()
    s.move(1, "contacted")
    s.move(2, "proposal")
    s.move(4, "contacted")
    s.move(5, "proposal")
    f = s.facts()
    assert [(v[0], v[1], v[2]) for v in visits(f)] == [
        ("lead", 1, "create"), ("contacted", 1, "move"), ("proposal", 1, "skip"),
        ("contacted", 2, "regression"), ("proposal", 2, "skip")]
    regressed = [r for r in f.funnel if r.regressed == 1]
    assert [(r.stage, r.day) for r in regressed] == [("proposal", (T0 + timedelta(days=4)).date())]
    assert f.current["furthest_stage_index"] == 3


def test_reopened_deal_cycle_ends_at_final_close_and_old_loss_does_not_count():
    s = Stream()
    s.add("deal.lost", 5, {"reason": "price"})
    s.add("deal.reopened", 7, {"to_stage": "proposal"})
    s.add("deal.signed", 9, {"amount": "500", "currency": "USD"})
    f = s.facts()
    assert [a.kind for a in f.activity] == ["created", "won"]
    assert f.cycle.outcome == "won" and f.cycle.cycle_days == 9.0
    assert visits(f) == [("lead", 1, "create", "lost", 5.0), ("proposal", 1, "reopen", "won", 2.0)]
    assert f.current["lost_reason"] is None


def test_lost_then_reopened_and_still_open_has_no_close():
    s = Stream()
    s.add("deal.lost", 5, {"reason": "price"})
    s.add("deal.reopened", 7, {"to_stage": "lead"})
    f = s.facts()
    assert f.cycle is None and f.current["status"] == "open" and f.current["closed_at"] is None


def test_voided_event_never_happened():
    s = Stream()
    moved = s.move(2, "contacted")
    s.add("event.voided", 3, {"event_id": moved, "reason": "wrong deal"})
    f = s.facts()
    assert visits(f) == [("lead", 1, "create", None, None)]
    assert f.current["stage"] == "lead" and f.current["version"] == 3


def test_backdated_move_lands_where_it_happened():
    s = Stream()
    s.add("deal.contact_logged", 3, {"channel": "call"})
    s.move(1, "contacted")  # recorded after the contact, happened before it
    f = s.facts()
    assert visits(f) == [("lead", 1, "create", "contacted", 1.0), ("contacted", 1, "move", None, None)]
    assert f.current["last_activity_at"] == T0 + timedelta(days=3)


def test_attribution_follows_owner_at_the_moment():
    s = Stream()
    s.add("deal.contact_logged", 1, {"channel": "call"})
    s.add("deal.owner_changed", 2, {"owner_id": "r2", "team_id": "t2"})
    s.add("deal.contact_logged", 3, {"channel": "email"})
    s.add("deal.feedback_recorded", 4, {"score": 4})
    s.add("deal.signed", 5, {"amount": "700", "currency": "USD"})
    f = s.facts()
    assert [(a.kind, a.owner_id, a.team_id) for a in f.activity] == [
        ("created", "r1", "t1"), ("contact", "r1", "t1"), ("contact", "r2", "t2"),
        ("feedback", "r2", "t2"), ("won", "r2", "t2")]
    assert f.current["created_owner_id"] == "r1" and f.current["owner_id"] == "r2"


def test_funnel_deltas_balance_and_track_amounts():
    s = Stream()
    s.move(1, "contacted")
    s.add("deal.quote_issued", 2, {"quote_id": "q", "amount": "1500", "currency": "USD"})
    f = s.facts()
    by_stage = {}
    for r in f.funnel:
        open_count, amount = by_stage.get(r.stage, (0, Decimal(0)))
        by_stage[r.stage] = (open_count + r.open_delta, amount + r.amount_delta)
    assert by_stage == {"lead": (0, Decimal(0)), "contacted": (1, Decimal("1500"))}
    assert f.current["current_amount"] == Decimal("1500")
    assert [(a.valid_from, a.amount) for a in f.amounts] == [(T0, Decimal("1000")),
                                                              (T0 + timedelta(days=2), Decimal("1500"))]


def test_created_in_later_stage_passes_earlier_ones():
    f = Stream(stage="needs_analysis").facts()
    assert f.current["furthest_stage_index"] == 2 and f.current["entered_stages"] == ["needs_analysis"]


def test_no_created_means_no_deal():
    assert derive("d1", [Ev("e1", "deal.contact_logged", 1, 1, T0, {"channel": "call"})]) is None
