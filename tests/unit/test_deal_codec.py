"""The deal state's two encodings: every field (the API's body), and the stored one that leaves
out what is None by default; both read back as the same state."""
from dataclasses import fields
from datetime import datetime, timedelta, timezone

from domain.deal import DealState, fold
from domain.deal_codec import from_json, to_json, to_stored
from events.schema import event_adapter
from tests import factories as f


class _Fact:
    def __init__(self, version: int, body: dict, at: datetime):
        event = event_adapter.validate_python(body)
        self.event_id, self.type, self.stream_version, self.occurred_at = f"e{version}", event.type, version, at
        self.data = event.payload_dict()


def _deal(*bodies: dict) -> DealState:
    start = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    return fold("d1", [_Fact(i + 1, b, start + timedelta(days=i)) for i, b in enumerate(bodies)])


def test_both_encodings_read_back_as_the_state():
    for state in (_deal(f.created()), _deal(f.created(), f.moved("lead", "contacted"), f.quote(), f.contact()),
                  _deal(f.created(), f.quote(), f.signed())):
        assert from_json(to_json(state)) == state == from_json(to_stored(state))


def test_stored_leaves_out_fields_that_are_none_by_default_and_the_api_body_keeps_them():
    state = _deal(f.created())
    full, stored = to_json(state), to_stored(state)
    assert set(full) == {f.name for f in fields(DealState)} | {"fold_version"}
    assert full["closed_at"] is None and "closed_at" not in stored
    assert {k: v for k, v in full.items() if v is not None} == stored
    assert (stored["set_at"]["owner"] == [state.created_at.isoformat(), 1]
            and stored["created_at"] == state.created_at.isoformat())
