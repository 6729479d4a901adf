"""Concurrent retries of one event_id: the first post records it, every other gets the original
result (same content, 200) or idempotency_conflict (other content, 409) — never deal_exists."""
import threading
import time
import uuid

from fastapi.testclient import TestClient

from events.log_reader import read_committed
from infra.settings import Settings
from services.api.app import create_app
from tests import factories as f
from tests.integration.helpers import post
from tests.keys import admin_headers

THREADS = 8


def post_together(client, deal_id, bodies):
    """Post every body at once (one thread each, released by a barrier); the responses in order.
    `deal_id` may be a list, one per body."""
    barrier = threading.Barrier(len(bodies))
    responses = [None] * len(bodies)
    deals = deal_id if isinstance(deal_id, list) else [deal_id] * len(bodies)

    def send(i):
        barrier.wait()
        responses[i] = post(client, deals[i], bodies[i])
    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def test_concurrent_identical_creates_give_one_201_and_the_original_to_the_rest(client):
    for _ in range(5):
        body = {**f.created(), "event_id": str(uuid.uuid4())}
        responses = post_together(client, f"deal-{uuid.uuid4().hex[:12]}", [body] * THREADS)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * (THREADS - 1) + [201], [r.text for r in responses]
        assert len({(r.json()["position"], r.json()["hash"]) for r in responses}) == 1


def test_concurrent_identical_follow_ups_are_idempotent_too(client, deal_id):
    assert post(client, deal_id, f.created()).status_code == 201
    for _ in range(3):
        body = {**f.contact(), "event_id": str(uuid.uuid4())}
        responses = post_together(client, deal_id, [body] * THREADS)
        assert sorted(r.status_code for r in responses) == [200] * (THREADS - 1) + [201]
        assert len({r.json()["stream_version"] for r in responses}) == 1


def test_concurrent_retries_with_other_content_are_conflicts(client):
    for _ in range(3):
        event_id = str(uuid.uuid4())
        bodies = [{**f.created(title=f"variant {i % 2}"), "event_id": event_id} for i in range(THREADS)]
        responses = post_together(client, f"deal-{uuid.uuid4().hex[:12]}", bodies)
        winner = [i for i, r in enumerate(responses) if r.status_code == 201]
        assert len(winner) == 1, [r.text for r in responses]
        for i, r in enumerate(responses):
            if i == winner[0]:
                continue
            same = bodies[i] == bodies[winner[0]]
            expected = (200, None) if same else (409, "idempotency_conflict")
            assert (r.status_code, r.json().get("error", {}).get("code")) == expected, r.text


def test_concurrent_posts_of_one_event_id_to_two_deals_conflict(client):
    for _ in range(3):
        body = {**f.created(), "event_id": str(uuid.uuid4())}
        deals = [f"deal-{uuid.uuid4().hex[:12]}" for _ in range(2)] * (THREADS // 2)
        responses = post_together(client, deals, [body] * THREADS)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * (THREADS // 2 - 1) + [201] + [409] * (THREADS // 2), [r.text for r in responses]
        assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"idempotency_conflict"}


def test_log_reads_past_positions_left_unused_by_retries(fresh_engine):
    """A retry that finds its event after the head lock leaves its position unused: a hole
    the log reader must skip without waiting out its timeout."""
    with TestClient(create_app(Settings(DATABASE_URL="unused"), engine=fresh_engine),
                    headers=admin_headers(fresh_engine)) as client:
        for _ in range(3):
            body = {**f.created(), "event_id": str(uuid.uuid4())}
            post_together(client, f"deal-{uuid.uuid4().hex[:12]}", [body] * 4)
            assert post(client, "deal-x", body).status_code == 409  # other deal: a conflict, rolled back
        last = post(client, f"deal-{uuid.uuid4().hex[:12]}", f.created()).json()
    started = time.monotonic()
    page = read_committed(fresh_engine, 0, 1000, wait_seconds=60.0)
    assert time.monotonic() - started < 30.0  # far under the 60 s a waited-out hole would cost (even on a busy machine)
    assert page.through == last["position"]
    assert len(page.envelopes) == 1 + 3 + 1  # the default pipeline, three deals, the last one
