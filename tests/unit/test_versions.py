"""Bitemporal rows: for any history, the rows a deal's timeline holds at a recorded moment equal
deriving the deal from the events recorded by then — back-dated events, voids, reopens, owner
changes and batches (events recorded at one moment) included."""
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.deals.history import _compared, rows_of, timeline
from projections.deals.rows import Ev, derive
from projections.tables.declared import VERSIONED_TABLES

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
STAGES = ["lead", "contacted", "needs_analysis", "proposal", "negotiation"]


def created(at: int) -> dict:
    return {"title": "t", "customer": {"id": "c", "name": "C", "segment": "smb"}, "owner_id": "r1",
            "team_id": "t1", "expected_amount": "1000", "stage": "lead"}


STEP = st.one_of(
    st.tuples(st.just("deal.contact_logged"), st.fixed_dictionaries({"channel": st.just("call")})),
    st.tuples(st.just("deal.stage_moved"), st.fixed_dictionaries(
        {"from_stage": st.just("?"), "to_stage": st.sampled_from(STAGES)})),
    st.tuples(st.just("deal.quote_issued"), st.fixed_dictionaries(
        {"quote_id": st.just("q"), "amount": st.integers(1, 9000).map(str), "currency": st.just("USD")})),
    st.tuples(st.just("deal.signed"), st.fixed_dictionaries(
        {"amount": st.integers(1, 9000).map(str), "currency": st.just("USD")})),
    st.tuples(st.just("deal.lost"), st.fixed_dictionaries({"reason": st.just("price")})),
    st.tuples(st.just("deal.reopened"), st.fixed_dictionaries({"to_stage": st.sampled_from(STAGES)})),
    st.tuples(st.just("deal.owner_changed"), st.fixed_dictionaries(
        {"owner_id": st.sampled_from(["r1", "r2"]), "team_id": st.sampled_from(["t1", "t2"])})),
    st.tuples(st.just("deal.feedback_recorded"), st.fixed_dictionaries({"score": st.integers(1, 5)})),
    st.tuples(st.just("deal.updated"), st.fixed_dictionaries(
        {"expected_amount": st.integers(1, 9000).map(str), "currency": st.just("USD")})),
    st.tuples(st.just("event.voided"), st.fixed_dictionaries({"pick": st.integers(0, 50)})),
)


@st.composite
def histories(draw):
    """Events in recorded order: business days that go back sometimes, batches sharing a clock."""
    events, clock = [Ev("e1", "deal.created", 1, 10, T0, created(0), T0)], T0
    for n in range(2, draw(st.integers(2, 14)) + 1):
        kind, data = draw(STEP)
        if kind == "event.voided":
            data = {"event_id": events[data["pick"] % len(events)].event_id, "reason": "fix"}
        if not draw(st.booleans()) or n == 2:  # else: the same batch as the event before
            clock += timedelta(seconds=draw(st.integers(1, 3)))
        business = T0 + timedelta(days=draw(st.integers(0, 40)))
        events.append(Ev(f"e{n}", kind, n, n * 10, business, dict(data), clock))
    return events


def rows_at(events, moment):
    known = [e for e in events if e.recorded_at <= moment]
    return {k: _compared(k[0], row) for k, row in rows_of(derive("d1", known) if known else None).items()
            if k[0] in VERSIONED_TABLES}


@settings(max_examples=300, deadline=None)
@given(events=histories())
def test_rows_as_of_any_moment_equal_a_derivation_of_what_was_recorded_by_then(events):
    line = timeline("d1", events)
    moments = sorted({e.recorded_at for e in events})
    for moment in [T0 - timedelta(seconds=1), *moments, moments[-1] + timedelta(days=1)]:
        assert line.as_of(moment) == rows_at(events, moment), moment
        assert line.as_of(moment + timedelta(microseconds=500_000)) == rows_at(events, moment)


@settings(max_examples=100, deadline=None)
@given(events=histories())
def test_versions_are_disjoint_and_the_current_rows_are_the_full_derivation(events):
    line = timeline("d1", events)
    assert {k: v.row for k, v in line.current.items()} == rows_of(derive("d1", events))
    spans: dict = {}
    for table, version in line.closed:
        assert version.since < version.until
        spans.setdefault((table, str(sorted(version.row.items()) if isinstance(version.row, dict)
                                     else version.row[:3])), []).append((version.since, version.until))
    for ranges in spans.values():
        ranges.sort()
        assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))


def test_a_contact_makes_no_version_of_the_current_row_but_a_move_does():
    t1, t2, t3 = T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)
    events = [Ev("e1", "deal.created", 1, 10, T0, created(0), t1),
              Ev("e2", "deal.contact_logged", 2, 20, T0 + timedelta(days=1), {"channel": "call"}, t2),
              Ev("e3", "deal.stage_moved", 3, 30, T0 + timedelta(days=2),
                 {"from_stage": "lead", "to_stage": "contacted"}, t3)]
    line = timeline("d1", events)
    current = [v for t, v in line.closed if t == "deal_current"]
    assert [(v.row["stage"], v.since, v.until) for v in current] == [("lead", t1, t3)]
    assert line.current[("deal_current", ("d1",))].since == t3
    visits = sorted((v.row.stage, v.row.exited_at is None, v.since, v.until) for t, v in line.closed
                    if t == "deal_stage_history")
    assert visits == [("lead", True, t1, t3)]  # the open lead visit, closed by the move


def test_rows_are_keyed_by_their_primary_key_not_their_first_columns():
    t1, t2 = T0, T0 + timedelta(seconds=1)
    events = [Ev("e1", "deal.created", 1, 10, T0, created(0), t1),  # amount row 1 at T0
              Ev("e2", "deal.quote_issued", 2, 20, T0, {"quote_id": "q", "amount": "5", "currency": "USD"}, t2)]
    line = timeline("d1", events)
    amounts = sorted(v.row for (table, _), v in line.current.items() if table == "deal_amount_history")
    assert [(row.seq, row.valid_from) for row in amounts] == [(1, T0), (2, T0)]
    assert [t for t, _ in line.closed if t == "deal_amount_history"] == []  # row 1 did not change
