"""Small helpers that build valid event bodies."""
from typing import Any


def created(**data: Any) -> dict:
    body = {"title": "ACME rollout", "customer": {"id": "c1", "name": "ACME", "segment": "smb"},
            "owner_id": "rep-1", "team_id": "team-a", "expected_amount": "1000.00", "currency": "USD"}
    body.update(data)
    return {"type": "deal.created", "data": body}


def moved(from_stage: str, to_stage: str, **extra: Any) -> dict:
    return {"type": "deal.stage_moved", "data": {"from_stage": from_stage, "to_stage": to_stage}, **extra}


def signed(amount: str = "900.00", currency: str = "USD", **extra: Any) -> dict:
    return {"type": "deal.signed", "data": {"amount": amount, "currency": currency}, **extra}


def lost(reason: str = "price", **extra: Any) -> dict:
    return {"type": "deal.lost", "data": {"reason": reason}, **extra}


def contact(channel: str = "call", **extra: Any) -> dict:
    return {"type": "deal.contact_logged", "data": {"channel": channel}, **extra}


def quote(amount: str = "950.00", currency: str = "USD", **extra: Any) -> dict:
    return {"type": "deal.quote_issued",
            "data": {"quote_id": "q1", "amount": amount, "currency": currency}, **extra}
