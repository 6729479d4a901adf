"""POST /v1/events/batch: atomic, names the failing index, idempotent on retry."""
import uuid

from services.api.plumbing.models import AppendOut, BatchOut
from tests import factories as f
from tests.integration.helpers import log_size


def item(deal_id, body):
    return {"deal_id": deal_id, **body}


def test_batch_appends_all_in_order(client, deal_id):
    other = deal_id + "-b"
    events = [item(deal_id, f.created()), item(other, f.created()),
              item(deal_id, f.moved("lead", "contacted")), item(deal_id, f.signed()),
              item(other, f.lost())]
    r = client.post("/v1/events/batch", json={"events": events})
    assert r.status_code == 201, r.text
    results = r.json()["results"]
    assert [(x["deal_id"], x["stream_version"]) for x in results] == [
        (deal_id, 1), (other, 1), (deal_id, 2), (deal_id, 3), (other, 2)]
    positions = [x["position"] for x in results]
    assert positions == sorted(positions)
    assert client.get(f"/v1/deals/{deal_id}").json()["status"] == "won"
    assert client.get(f"/v1/deals/{other}").json()["status"] == "lost"


def test_batch_is_all_or_nothing_and_names_the_index(client, engine, deal_id):
    events = [item(deal_id, f.created()), item(deal_id, f.contact()),
              item(deal_id, f.moved("proposal", "negotiation"))]
    before = log_size(engine)
    r = client.post("/v1/events/batch", json={"events": events})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "stage_conflict" and err["details"]["index"] == 2 and "events[2]" in err["message"]
    assert log_size(engine) == before
    assert client.get(f"/v1/deals/{deal_id}").status_code == 404


def test_batch_validation_error_names_the_index(client, engine, deal_id):
    events = [item(deal_id, f.created()), item(deal_id, {"type": "deal.contact_logged", "data": {}})]
    before = log_size(engine)
    r = client.post("/v1/events/batch", json={"events": events})
    assert r.status_code == 422 and r.json()["error"]["details"]["index"] == 1
    assert log_size(engine) == before


def test_batch_limits(client):
    assert client.post("/v1/events/batch", json={"events": []}).status_code == 422
    too_many = [item(f"d{i}", f.contact()) for i in range(10_001)]
    r = client.post("/v1/events/batch", json={"events": too_many})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


def test_duplicate_event_id_inside_batch_is_422(client, engine, deal_id):
    eid = str(uuid.uuid4())
    events = [item(deal_id, {**f.created(), "event_id": eid}), item(deal_id, {**f.contact(), "event_id": eid})]
    before = log_size(engine)
    r = client.post("/v1/events/batch", json={"events": events})
    assert r.status_code == 422 and r.json()["error"]["details"]["index"] == 1
    assert log_size(engine) == before


def test_batch_retry_is_idempotent(client, engine, deal_id):
    events = [item(deal_id, {**f.created(), "event_id": str(uuid.uuid4())}),
              item(deal_id, {**f.contact(), "event_id": str(uuid.uuid4())})]
    first = client.post("/v1/events/batch", json={"events": events})
    before = log_size(engine)
    again = client.post("/v1/events/batch", json={"events": events})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and log_size(engine) == before


def test_large_batch_of_10000(client, engine, deal_id):
    events = [item(f"{deal_id}-{i}", f.created()) for i in range(5000)]
    events += [item(f"{deal_id}-{i}", f.moved("lead", "contacted")) for i in range(5000)]
    before = log_size(engine)
    r = client.post("/v1/events/batch", json={"events": events})
    assert r.status_code == 201
    assert log_size(engine)[0] == before[0] + 10_000
    assert client.get(f"/v1/deals/{deal_id}-4999").json()["stage"] == "contacted"


def _appended(client, event_type: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'dealtrail_events_appended_total{{type="{event_type}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_batch_answer_is_the_response_model_and_counts_each_type(client, engine, deal_id):
    """The answer is written from dicts: the same JSON as the declared BatchOut of the events."""
    events = [item(deal_id, f.created()), item(deal_id, f.contact()), item(deal_id, f.contact()),
              item(deal_id + "-b", f.created())]
    contacts = _appended(client, "deal.contact_logged")
    r = client.post("/v1/events/batch", json={"events": events})
    assert r.status_code == 201 and r.headers["content-type"] == "application/json"
    stored = client.get(f"/v1/deals/{deal_id}/events").json()["events"] + \
        client.get(f"/v1/deals/{deal_id}-b/events").json()["events"]
    declared = BatchOut(results=[AppendOut(**{k: e[k] for k in AppendOut.model_fields}) for e in stored])
    assert r.content == declared.model_dump_json().encode()
    assert _appended(client, "deal.contact_logged") == contacts + 2
