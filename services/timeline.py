"""A deal's history as readable entries (GET /v1/deals/{id}/timeline). Pure.

Entries follow business time (occurred_at, then stream_version), each naming its event, who
recorded it and when; voided events stay in the timeline, marked with the void that took them
back, and a void names what it voided. Stage visits and their dwell come from the same fold as
read_models.deal_stage_history, so the timeline and the read models agree."""
from collections.abc import Mapping, Sequence
from typing import Any

from domain.pipelines import PIPELINES, Pipeline
from events.canonical import format_ts
from events.envelope import Envelope
from projections.deals.rows import DAY, Ev, derive


def timeline(deal_id: str, envelopes: Sequence[Envelope], pipelines: Mapping[str, Pipeline] = PIPELINES) -> dict:
    by_id = {e.event_id: e for e in envelopes}
    voided_by = {e.data["event_id"]: e.event_id for e in envelopes if e.type == "event.voided"}
    ordered = sorted(envelopes, key=lambda e: (e.type != "deal.created", e.occurred_at, e.stream_version))
    facts = derive(deal_id, [Ev(e.event_id, e.type, e.stream_version, e.position, e.occurred_at, e.data)
                             for e in envelopes], pipelines)
    return {"deal_id": deal_id, "version": max((e.stream_version for e in envelopes), default=0),
            "stage": facts.current["stage"] if facts else None, "status": facts.current["status"] if facts else None,
            "entries": [_entry(e, by_id, voided_by) for e in ordered],
            "stage_visits": [_visit(v) for v in sorted(facts.visits, key=lambda v: v.entered_at)] if facts else []}


def _entry(e: Envelope, by_id: Mapping[str, Envelope], voided_by: Mapping[str, str]) -> dict[str, Any]:
    entry = {"event_id": e.event_id, "type": e.type, "stream_version": e.stream_version, "position": e.position,
             "occurred_at": format_ts(e.occurred_at), "recorded_at": format_ts(e.recorded_at), "actor": e.actor,
             "source": e.source, "summary": _summary(e, by_id), "voided": e.event_id in voided_by,
             "voided_by": voided_by.get(e.event_id), "data": e.data}
    if e.type == "event.voided":
        target = by_id.get(e.data["event_id"])
        entry["voids"] = None if target is None else {"event_id": target.event_id, "type": target.type,
                                                      "occurred_at": format_ts(target.occurred_at),
                                                      "summary": _summary(target, by_id)}
    return entry


def _visit(v) -> dict[str, Any]:
    return {"stage": v.stage, "visit": v.visit, "entered_at": format_ts(v.entered_at),
            "exited_at": None if v.exited_at is None else format_ts(v.exited_at),
            "dwell_days": None if v.dwell_seconds is None else round(v.dwell_seconds / DAY, 2),
            "exit_to": v.exit_to, "entered_by": v.entered_by, "owner_id": v.owner_id, "team_id": v.team_id}


def _money(d: Mapping) -> str:
    return f"{d['amount']} {d.get('currency', '')}".strip()


def _summary(e: Envelope, by_id: Mapping[str, Envelope]) -> str:
    d = e.data
    match e.type:
        case "deal.created":
            amount = f", expected {d['expected_amount']} {d.get('currency', '')}".rstrip() \
                if d.get("expected_amount") else ""
            return (f"Created '{d['title']}' for {d['customer']['name']} in {d.get('stage', 'lead')}, "
                    f"owner {d['owner_id']}{amount}")
        case "deal.contact_logged":
            text = d["channel"] + (f" ({d['direction']})" if d.get("direction") else "")
            return f"Contact by {text}" + (f": {d['summary']}" if d.get("summary") else "")
        case "deal.stage_moved":
            return f"Moved from {d['from_stage']} to {d['to_stage']}" + (f": {d['reason']}" if d.get("reason") else "")
        case "deal.quote_issued":
            return f"Quote {d['quote_id']}: {_money(d)}"
        case "deal.signed":
            return f"Signed for {_money(d)}" + (f" (contract {d['contract_id']})" if d.get("contract_id") else "")
        case "deal.lost":
            return f"Lost: {d['reason']}" + (f" to {d['competitor']}" if d.get("competitor") else "")
        case "deal.reopened":
            return f"Reopened to {d['to_stage']}" + (f": {d['reason']}" if d.get("reason") else "")
        case "deal.owner_changed":
            return f"Owner changed to {d['owner_id']}" + (f" (team {d['team_id']})" if d.get("team_id") else "")
        case "deal.updated":
            return "Updated " + ", ".join(sorted(d))
        case "deal.feedback_recorded":
            return f"Feedback {d['score']}/5" + (f": {d['comment']}" if d.get("comment") else "")
        case "event.voided":
            target = by_id.get(d["event_id"])
            what = f"{target.type} of {format_ts(target.occurred_at)}" if target else d["event_id"]
            return f"Voided {what}: {d['reason']}"
    return e.type
