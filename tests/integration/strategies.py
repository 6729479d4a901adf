"""Hypothesis strategies for random deal histories: back-dated events, skips, regressions,
reopens, voids, owner changes, updates; `play` applies them, skipping what the rules refuse."""
import uuid

from hypothesis import strategies as st

from domain.errors import DomainError
from domain.pipelines import DEFAULT_PIPELINE
from events.schema import event_adapter
from services.appending import Command, append_events
from tests.integration.projection_helpers import CTX, day

STAGES = list(DEFAULT_PIPELINE.keys)


@st.composite
def histories(draw):
    """[(deal_id, body)] in recorded order; bodies may be rejected by the rules (then skipped)."""
    tag = uuid.uuid4().hex[:6]
    out = []
    for n in range(draw(st.integers(1, 4))):
        deal = f"p{tag}{n}"
        out.append((deal, {"type": "deal.created", "occurred_at": day(draw(st.integers(0, 30))), "data": {
            "title": deal, "customer": {"id": deal, "name": deal, "segment": draw(st.sampled_from(["smb", "ent"]))},
            "owner_id": f"{tag}r{draw(st.integers(0, 2))}", "team_id": f"{tag}t{draw(st.integers(0, 1))}",
            "expected_amount": str(draw(st.integers(0, 5000))), "currency": "USD",
            "stage": draw(st.sampled_from(STAGES[:3]))}}))
        for _ in range(draw(st.integers(0, 8))):
            out.append((deal, draw(_step(tag))))
    return draw(st.permutations(out)) if draw(st.booleans()) else out


def _step(tag):
    at = st.integers(0, 90).map(day)
    return st.one_of(
        st.builds(lambda t, c: {"type": "deal.contact_logged", "occurred_at": t, "data": {"channel": c}},
                  at, st.sampled_from(["call", "email"])),
        st.builds(lambda t, s: {"type": "deal.stage_moved", "occurred_at": t,
                                "data": {"from_stage": "?", "to_stage": s}},
                  at, st.sampled_from(STAGES)),
        st.builds(lambda t, a: {"type": "deal.quote_issued", "occurred_at": t,
                                "data": {"quote_id": "q", "amount": str(a), "currency": "USD"}},
                  at, st.integers(1, 9000)),
        st.builds(lambda t, a: {"type": "deal.signed", "occurred_at": t, "data": {"amount": str(a), "currency": "USD"}},
                  at, st.integers(1, 9000)),
        st.builds(lambda t: {"type": "deal.lost", "occurred_at": t, "data": {"reason": "timing"}}, at),
        st.builds(lambda t, s: {"type": "deal.reopened", "occurred_at": t, "data": {"to_stage": s}},
                  at, st.sampled_from(STAGES)),
        st.builds(lambda t, o: {"type": "deal.owner_changed", "occurred_at": t,
                                "data": {"owner_id": f"{tag}r{o}", "team_id": f"{tag}t{o % 2}"}},
                  at, st.integers(0, 2)),
        st.builds(lambda t, s: {"type": "deal.feedback_recorded", "occurred_at": t, "data": {"score": s}},
                  at, st.integers(1, 5)),
        st.builds(lambda t, title, close, k: {"type": "deal.updated", "occurred_at": t, "data": {
            "title": title, "expected_close_date": f"2026-{close:02d}-01", "fields": {"k": k}}},
                  at, st.sampled_from(["a", "b"]), st.integers(1, 12), st.one_of(st.none(), st.integers(0, 3))),
        st.builds(lambda t, a: {"type": "deal.updated", "occurred_at": t,
                                "data": {"expected_amount": str(a), "currency": "USD"}}, at, st.integers(0, 9000)),
        st.builds(lambda k: {"type": "event.voided", "data": {"pick": k, "reason": "correction"}}, st.integers(0, 20)),
    )


def play(engine, history, after=None) -> None:
    """Append the history (skipping what the rules refuse); `after(i)` runs after the i-th body."""
    recorded: dict[str, list[str]] = {}
    states: dict[str, str] = {}
    for i, (deal, body) in enumerate(history):
        if i and after is not None:
            after(i - 1)
        body = _resolve(body, recorded.get(deal, []), states.get(deal))
        if body is None:
            continue
        try:
            [result] = append_events(engine, [Command(deal, event_adapter.validate_python(body))], CTX, currency="USD")
        except DomainError:
            continue
        env = result.envelope
        if env.type not in ("deal.created", "event.voided"):
            recorded.setdefault(deal, []).append(env.event_id)
        states[deal] = _stage_after(env, states.get(deal))
    if history and after is not None:
        after(len(history) - 1)


def _resolve(body, events, stage):
    if body["type"] == "event.voided":
        if not events:
            return None
        return {"type": "event.voided", "data": {"event_id": events[body["data"]["pick"] % len(events)],
                                                  "reason": "correction"}}
    if body["type"] == "deal.stage_moved":
        return {**body, "data": {**body["data"], "from_stage": stage or "lead"}}
    return body


def _stage_after(env, stage):
    data = env.data
    return {"deal.created": data.get("stage"), "deal.stage_moved": data.get("to_stage"),
            "deal.reopened": data.get("to_stage")}.get(env.type, stage)
