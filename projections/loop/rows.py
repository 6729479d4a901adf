"""Read-model rows of target, review and pipeline streams (pure), like projections.deals.rows for deals."""
from collections.abc import Iterable
from datetime import date

from events import periods
from events.streams import Kind, StreamId
from projections.deals.rows import Ev

def derive_stream(stream_id: str, events: Iterable[Ev]) -> dict[str, list[tuple]]:
    """{table: rows} for a target: or review: stream (empty for anything else)."""
    events = sorted(events, key=lambda e: e.stream_version)
    stream = StreamId.parse(stream_id)
    derive_one = _DERIVERS.get(stream.kind)
    return derive_one(stream.key, events) if derive_one else {}


def _pipeline(key: str, events: list[Ev]) -> dict[str, list[tuple]]:
    """The definition in force: the latest pipeline.defined."""
    defined = [e for e in events if e.type == "pipeline.defined"]
    if not defined:
        return {}
    stages = defined[-1].data["stages"]
    return {"pipeline_stage": [(key, s["key"], i, s["probability"], s.get("stall_after_days"),
                                s.get("target_conversion")) for i, s in enumerate(stages)]}


def _target(target_id: str, events: list[Ev]) -> dict[str, list[tuple]]:
    sets = [e for e in events if e.type == "target.set"]
    if not sets:
        return {}
    last = sets[-1].data
    start, end = periods.parse(last["period"])
    current = (target_id, last["scope"], last["scope_id"], last["period"], start, end, last["metric"],
               last["value"], sets[-1].stream_version, sets[-1].occurred_at)
    history = [(target_id, e.stream_version, e.data["value"], e.occurred_at) for e in sets]
    return {"targets": [current], "target_history": history}


def _review(review_id: str, events: list[Ev]) -> dict[str, list[tuple]]:
    opened = next((e for e in events if e.type == "review.opened"), None)
    if opened is None:
        return {}
    d = opened.data
    periods.parse(d["period"])  # a review of a period the reports cannot handle is not applied
    actions: dict[str, list] = {}
    closed = None
    for e in events:
        if e.type == "review.action_added":
            a = e.data
            due = date.fromisoformat(a["due_date"]) if a.get("due_date") else None
            actions[a["action_id"]] = [review_id, a["action_id"], a["title"], a["owner_id"], due,
                                       e.occurred_at, None, None]
        elif e.type == "review.action_completed" and e.data["action_id"] in actions:
            actions[e.data["action_id"]][6:8] = [e.occurred_at, e.data.get("outcome")]
        elif e.type == "review.closed":
            closed = e
    open_count = sum(1 for a in actions.values() if a[6] is None)
    row = (review_id, d["trigger"], d["scope"], d["scope_id"], d["period"], d["metric"], d.get("expected"),
           d.get("actual"), d.get("notes"), "closed" if closed else "open", opened.occurred_at,
           closed.occurred_at if closed else None, closed.data.get("summary") if closed else None,
           len(actions), open_count, events[-1].stream_version)
    return {"reviews": [row], "review_actions": [tuple(a) for a in actions.values()]}


_DERIVERS = {Kind.TARGET: _target, Kind.REVIEW: _review, Kind.PIPELINE: _pipeline}
