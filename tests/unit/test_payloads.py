from decimal import Decimal

import pytest
from pydantic import ValidationError

from events.payloads import PAYLOADS
from events.schema import EVENT_MODELS, event_adapter
from events.upcasting import CURRENT_SCHEMA_VERSION, register, upcast


def validate(body):
    return event_adapter.validate_python(body)


def test_every_spec_event_type_has_a_model():
    spec_types = {"deal.created", "deal.contact_logged", "deal.stage_moved", "deal.quote_issued",
                  "deal.signed", "deal.lost", "deal.reopened", "deal.owner_changed",
                  "deal.feedback_recorded", "deal.updated", "event.voided", "target.set", "review.opened",
                  "review.action_added", "review.action_completed", "review.closed",
                  "pipeline.defined"}  # the last one from issue 4
    assert set(PAYLOADS) == spec_types == set(EVENT_MODELS)


@pytest.mark.parametrize("body", [
    {"type": "deal.unknown", "data": {}},
    {"type": "deal.signed", "data": {"amount": "10", "currency": "USD", "extra": 1}},
    {"type": "deal.signed", "data": {"amount": "10", "currency": "USD"}, "surprise": True},
    {"type": "deal.signed", "data": {"amount": "0", "currency": "USD"}},
    {"type": "deal.signed", "data": {"amount": "-5", "currency": "USD"}},
    {"type": "deal.signed", "data": {"amount": "10", "currency": "XXY"}},
    {"type": "deal.signed", "data": {"amount": "10", "currency": "usd"}},
    {"type": "deal.signed", "data": {"amount": "NaN", "currency": "USD"}},
    {"type": "deal.signed", "data": {"currency": "USD"}},
    {"type": "deal.signed", "occurred_at": "2026-11-02T09:00:00", "data": {"amount": "1", "currency": "USD"}},
    {"type": "deal.contact_logged", "data": {"channel": "pigeon"}},
    {"type": "deal.lost", "data": {"reason": "bad luck"}},
    {"type": "deal.feedback_recorded", "data": {"score": 6}},
    {"type": "deal.feedback_recorded", "data": {"score": "5"}},
    {"type": "deal.created", "data": {"title": "t", "customer": {"id": "c"}, "owner_id": "o"}},
    {"type": "target.set", "data": {"scope": "rep", "scope_id": "r", "period": "2026-13",
                                     "metric": "revenue", "value": "1"}},
    {"type": "event.voided", "data": {"event_id": "not-a-uuid", "reason": "typo"}},
])
def test_invalid_bodies_are_rejected(body):
    with pytest.raises(ValidationError):
        validate(body)


def test_money_is_decimal_and_stored_as_fixed_point_string():
    event = validate({"type": "deal.quote_issued", "data": {
        "quote_id": "q", "amount": Decimal("1E+3"), "currency": "EUR",
        "line_items": [{"sku": "a", "qty": 2, "unit_price": "500", "discount": "0.1"}]}})
    assert event.data.amount == Decimal("1000")
    assert event.payload_dict()["amount"] == "1000"
    assert event.payload_dict()["line_items"][0] == {"sku": "a", "qty": "2", "unit_price": "500",
                                                      "discount": "0.1"}


def test_defaults_are_filled_and_absent_optionals_left_out():
    event = validate({"type": "deal.created", "data": {
        "title": "t", "customer": {"id": "c", "name": "C"}, "owner_id": "o"}})
    assert event.payload_dict() == {"title": "t", "customer": {"id": "c", "name": "C"},
                                    "owner_id": "o", "pipeline": "default", "stage": "lead"}


def test_feedback_from_uses_its_json_name():
    event = validate({"type": "deal.feedback_recorded", "data": {"score": 4, "from": "customer"}})
    assert event.payload_dict() == {"score": 4, "from": "customer"}


def test_periods_accept_month_quarter_year():
    for period in ("2026-11", "2026-Q4", "2026"):
        validate({"type": "target.set", "data": {"scope": "team", "scope_id": "t", "period": period,
                                                  "metric": "revenue", "value": "100"}})


def test_upcaster_hook_applies_in_order():
    @register("test.thing", 1)
    def _v1_to_v2(data):
        return {**data, "b": data["a"] * 2}

    @register("test.thing", 2)
    def _v2_to_v3(data):
        return {**data, "c": data["b"] + 1}

    try:
        assert upcast("test.thing", 1, {"a": 1}) == (3, {"a": 1, "b": 2, "c": 3})
        assert upcast("test.thing", 3, {"a": 1}) == (3, {"a": 1})
        assert upcast("deal.created", 1, {"x": 1}) == (1, {"x": 1})
    finally:
        CURRENT_SCHEMA_VERSION.pop("test.thing")
