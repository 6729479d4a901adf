"""SPEC §2 business-time consistency through HTTP: the issue's scenario and each rule's code."""
from tests import factories as f
from tests.integration.helpers import log_size, post


def at(body: dict, when: str) -> dict:
    return {**body, "occurred_at": when}


def rejected(client, engine, deal_id, body, code):
    before = log_size(engine)
    response = post(client, deal_id, body)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == code
    assert log_size(engine) == before
    return response.json()["error"]


def test_a_backdated_stage_move_is_out_of_order_and_writes_nothing(client, engine, deal_id):
    assert post(client, deal_id, at(f.created(), "2026-11-01T09:00:00Z")).status_code == 201
    assert post(client, deal_id, at(f.moved("lead", "contacted"), "2026-11-11T09:00:00Z")).status_code == 201
    error = rejected(client, engine, deal_id, at(f.moved("contacted", "proposal"), "2026-11-06T09:00:00Z"),
                     "out_of_order")
    assert "2026-11-11T09:00:00" in error["message"]
    assert client.get(f"/v1/deals/{deal_id}").json()["stage"] == "contacted"


def test_an_event_before_the_creation_is_refused(client, engine, deal_id):
    assert post(client, deal_id, at(f.created(), "2026-11-01T09:00:00Z")).status_code == 201
    rejected(client, engine, deal_id, at(f.contact(), "2026-10-30T09:00:00Z"), "before_creation")


def test_backdated_contacts_and_quotes_after_creation_are_accepted(client, deal_id):
    assert post(client, deal_id, at(f.created(), "2026-11-01T09:00:00Z")).status_code == 201
    assert post(client, deal_id, at(f.moved("lead", "contacted"), "2026-11-11T09:00:00Z")).status_code == 201
    assert post(client, deal_id, at(f.contact(), "2026-11-02T09:00:00Z")).status_code == 201
    assert post(client, deal_id, at(f.quote(), "2026-11-03T09:00:00Z")).status_code == 201


def test_only_the_latest_stage_change_can_be_voided(client, engine, deal_id):
    assert post(client, deal_id, at(f.created(), "2026-11-01T09:00:00Z")).status_code == 201
    first = post(client, deal_id, at(f.moved("lead", "contacted"), "2026-11-02T09:00:00Z")).json()["event_id"]
    second = post(client, deal_id, at(f.moved("contacted", "proposal"), "2026-11-03T09:00:00Z")).json()["event_id"]

    def void(eid: str) -> dict:
        return {"type": "event.voided", "data": {"event_id": eid, "reason": "typo"}}
    rejected(client, engine, deal_id, void(first), "void_conflict")
    assert post(client, deal_id, void(second)).status_code == 201  # the undo
    state = client.get(f"/v1/deals/{deal_id}").json()
    assert (state["stage"], state["status"]) == ("contacted", "open")
