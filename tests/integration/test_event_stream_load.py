"""200 event streams open on a real API process (25 auditor keys x 8, the per-key cap) over a
5,000-event log while a simple authenticated GET is timed: each stream starts at the head and
waits on one shared poll and shares one read of each new page, so the GET's p99 stays low, idle or
while every stream is sent the events posted meanwhile (before: every stream replayed the log, and
20 of them took a GET from p50 10 ms to 779 ms). Events posted meanwhile reach every stream."""
import time

import httpx

from events.schema import event_adapter
from services.appending import Command, append_events
from tests import factories as f
from tests.integration.api_process import api_process
from tests.integration.relay_helpers import CTX
from tests.integration.stream_readers import StreamReaders
from tests.keys import admin_headers, key_headers
from tests.waiting import until

STREAMS, KEYS = 200, 25
P99_BOUND_MS = 100.0


def test_200_streams_leave_a_simple_get_fast(fresh_engine):
    deals = [f"load-{i}" for i in range(1250)]
    commands = [Command(d, event_adapter.validate_python(f.created())) for d in deals]
    commands += [Command(d, event_adapter.validate_python(f.contact())) for d in deals for _ in range(3)]
    append_events(fresh_engine, commands, CTX, currency="USD", batch=True)
    keys = [key_headers(fresh_engine, "auditor") for _ in range(KEYS)]
    admin = admin_headers(fresh_engine)
    with api_process(fresh_engine) as (url, _), httpx.Client(base_url=url, headers=admin, timeout=30) as client:
        alone = timed_gets(client)[0]
        alone_posting = timed_gets(client, post_every=10)[0]
        with StreamReaders(url, keys, STREAMS) as streams:
            until(lambda: all(streams.statuses), timeout=120, interval=0.2)
            assert list(streams.statuses) == [200] * STREAMS
            idle = timed_gets(client)[0]
            (p50, p99, top), posted = timed_gets(client, post_every=10)
            print(f"\nGET /v1/deals/{{id}} p50/p99/max alone {alone[0]:.1f}/{alone[1]:.1f}/{alone[2]:.1f} ms, "
                  f"alone with posts {alone_posting[0]:.1f}/{alone_posting[1]:.1f}/{alone_posting[2]:.1f} ms, "
                  f"beside 200 idle streams {idle[0]:.1f}/{idle[1]:.1f}/{idle[2]:.1f} ms, "
                  f"beside 200 streams sending {p50:.1f}/{p99:.1f}/{top:.1f} ms")
            until(lambda: min(streams.seen) == posted, timeout=60, interval=0.2)  # every stream got the last post
            # On a busy shared machine the GET alone may already be slow: the bound is 100 ms, or
            # three times the p99 measured alone in this run when that is higher; also while the 200
            # streams are sent each post (issue 23 point 6; 5-92 ms measured on the shared machine,
            # once 305 ms at loadavg ~7).
            bound = max(P99_BOUND_MS, 3 * max(alone[1], alone_posting[1]))
            assert idle[1] <= bound, f"p99 beside idle streams {idle[1]:.1f} ms; bound {bound:.1f} ms"
            assert p99 <= bound, f"p99 beside streams sending {p99:.1f} ms; bound {bound:.1f} ms"


def timed_gets(client: httpx.Client, post_every: int = 0, count: int = 400) -> tuple[tuple[float, float, float], int]:
    """p50, p99 and max of `count` GET /v1/deals/{id} in ms (400: the p99 is not one stray sample of a
    busy machine); with `post_every`, an event is posted
    (untimed) before every so many GETs, for the streams to send; and the last posted position."""
    timings, posted = [], 0
    for n in range(count):
        if post_every and n % post_every == 0:
            posted = client.post("/v1/deals/load-7/events", json=f.contact()).json()["position"]
        started = time.perf_counter()
        assert client.get("/v1/deals/load-7").status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return (timings[count // 2 - 1], timings[count * 99 // 100 - 1], timings[-1]), posted
