"""Three maximal batches posted at once to a real API process: its RSS, sampled throughout
and after, stays within 300 MB (before: one 54 MB batch took it from 318 MB to 1,024 MB, three
peaked at 2.2 GB and 1.1 GB stayed held; three 19.8 MB batches measured here: 105 -> 684 MB,
482 MB held). Batches run one at a time per process, their body is at most 10 MiB and the heap
is trimmed after each (services.api.plumbing.batch_gate)."""
import json
import threading
import time

import httpx
import psutil

from services.api.plumbing.bodies import BATCH_BODY_LIMIT
from tests.integration.api_process import api_process
from tests.integration.projection_helpers import api
from tests.keys import admin_headers

RSS_BOUND = 300 * 1024 * 1024
SUMMARY = "x" * 2000  # the longest summary allowed: the most bytes an event of these can carry


def maximal_batch(tag: str, limit: int) -> bytes:
    """10,000 events (100 deals, each created then 99 contacts) with summaries cut so that the
    body is just under `limit` bytes."""
    per_event = (limit - 1024) // 10_000
    events = []
    for d in range(100):
        deal_id = f"mem-{tag}-{d}"
        events.append({"deal_id": deal_id, "type": "deal.created", "data": {
            "title": "Memory", "customer": {"id": "c1", "name": "C"}, "owner_id": "rep-1", "currency": "USD"}})
        for _ in range(99):
            event = {"deal_id": deal_id, "type": "deal.contact_logged", "data": {"channel": "call", "summary": ""}}
            room = per_event - len(json.dumps(event, separators=(",", ":"))) - 1
            event["data"]["summary"] = SUMMARY[:max(1, min(room, len(SUMMARY)))]
            events.append(event)
    body = json.dumps({"events": events}, separators=(",", ":")).encode()
    assert len(body) <= limit
    return body


def test_three_maximal_batches_at_once_stay_within_300_mb(fresh_engine):
    bodies = [maximal_batch(tag, BATCH_BODY_LIMIT) for tag in "abc"]
    headers = {**admin_headers(fresh_engine), "Content-Type": "application/json"}
    with api_process(fresh_engine) as (url, proc):
        process = psutil.Process(proc.pid)
        samples, done = [process.memory_info().rss], threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append(process.memory_info().rss)
                time.sleep(0.02)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        statuses = [None] * 3

        def post(i: int) -> None:
            statuses[i] = httpx.post(f"{url}/v1/events/batch", content=bodies[i], headers=headers,
                                     timeout=600).status_code
        posts = [threading.Thread(target=post, args=(i,)) for i in range(3)]
        for t in posts:
            t.start()
        for t in posts:
            t.join(600)
        time.sleep(1)  # on purpose: the samples after the batches (RSS held), not a wait for a condition
        done.set()
        sampler.join(5)
        after = process.memory_info().rss
    mb = 1024 * 1024
    print(f"\nbatch bodies {len(bodies[0]) / mb:.1f} MB x 3: API RSS start {samples[0] / mb:.0f} MB, "
          f"peak {max(samples) / mb:.0f} MB, after {after / mb:.0f} MB; statuses {statuses}")
    assert statuses == [201, 201, 201]
    assert max(samples) <= RSS_BOUND and after <= RSS_BOUND


def test_a_batch_body_over_10_mib_is_413(engine):
    body = b'{"events": [' + b" " * BATCH_BODY_LIMIT + b"]}"
    response = api(engine).post("/v1/events/batch", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
    assert BATCH_BODY_LIMIT == 10 * 1024 * 1024
