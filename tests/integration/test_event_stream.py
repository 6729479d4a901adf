"""GET /v1/events/stream against a real server: events as SSE in commit order (`id:` =
position), filters, resuming with Last-Event-ID, live delivery, strict parameters; a stream
without `after` starts at the head, catch-up comes in pages, the per-key cap (429) and the
roles of GET /v1/events (test_event_stream_load: 200 streams beside a simple GET)."""
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
import uvicorn
from sqlalchemy import event as sa_event

from events.schema import event_adapter
from infra.embedded import free_port
from infra.settings import Settings
from services.api.app import create_app
from services.appending import Command, append_events
from tests import factories as f
from tests.integration.projection_helpers import History
from tests.integration.relay_helpers import CTX
from tests.keys import admin_headers, key_headers
from tests.waiting import PATIENCE, until


@pytest.fixture
def server(fresh_engine):
    port = free_port()
    config = uvicorn.Config(create_app(Settings(DATABASE_URL="unused"), engine=fresh_engine),
                            host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    until(lambda: running.started, message="the stream's server started")
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(PATIENCE)


def read_events(url, headers, count, params=None, timeout=PATIENCE, then=None):
    """The first `count` events of a subscription (calling `then` once the stream is open)."""
    events, current = [], {}
    with httpx.stream("GET", f"{url}/v1/events/stream", params=params or {}, headers=headers,
                      timeout=timeout) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        if then:
            then()
        for line in response.iter_lines():
            if line.startswith(("id:", "event:", "data:")):
                name, _, value = line.partition(": ")
                current[name] = value
            elif line == "" and "id" in current:
                events.append((int(current["id"]), current["event"], json.loads(current["data"])))
                current = {}
                if len(events) == count:
                    return events
    return events


def test_the_log_streams_in_order_filters_and_resumes(server, fresh_engine):
    h = History(fresh_engine)
    posted = [h.create("s1", 0), h.create("s2", 0), h.move("s1", 1, "lead", "contacted"),
              h.post("s1", "deal.contact_logged", 2, channel="call")]
    headers = admin_headers(fresh_engine)
    every = read_events(server, headers, 5, {"after": 0})[1:]  # the first: the default pipeline's definition
    assert [(p, t) for p, t, _ in every] == [(e.position, e.type) for e in posted]
    assert every[2][2]["hash"] == posted[2].hash and every[2][2]["deal_id"] == "s1"
    only = read_events(server, headers, 3, {"deal_id": "s1", "after": 0})
    assert [p for p, _, _ in only] == [posted[0].position, posted[2].position, posted[3].position]
    typed = read_events(server, headers, 1, {"type": "deal.stage_moved", "after": 0})
    assert typed[0][0] == posted[2].position
    resumed = read_events(server, {**headers, "Last-Event-ID": str(posted[1].position)}, 2)
    assert [p for p, _, _ in resumed] == [posted[2].position, posted[3].position]
    later = read_events(server, headers, 1, {"after": posted[3].position},
                        then=lambda: h.post("s2", "deal.contact_logged", 3, channel="email"))
    assert later[0][1] == "deal.contact_logged" and later[0][2]["deal_id"] == "s2"


def test_bad_parameters_and_roles_are_refused(server, fresh_engine):
    headers = admin_headers(fresh_engine)
    for params, extra in (({"type": "deal.nope"}, {}), ({"after": "-1"}, {}), ({}, {"Last-Event-ID": "x1"}),
                          ({"deal": "s1"}, {})):
        response = httpx.get(f"{server}/v1/events/stream", params=params, headers={**headers, **extra},
                             timeout=PATIENCE)
        assert response.status_code == 422, (params, extra)
    for role in ("writer", "manager"):  # the roles of GET /v1/events: auditor and admin
        refused = httpx.get(f"{server}/v1/events/stream", headers=key_headers(fresh_engine, role),
                            timeout=PATIENCE)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", role
        assert httpx.get(f"{server}/v1/events", headers=key_headers(fresh_engine, role)).status_code == 403


def test_a_stream_without_after_starts_at_the_head(server, fresh_engine):
    h = History(fresh_engine)
    h.create("h1", 0)
    h.move("h1", 1, "lead", "contacted")
    later = []
    events = read_events(server, key_headers(fresh_engine, "auditor"), 2,
                         then=lambda: later.extend([h.post("h1", "deal.contact_logged", 2, channel="call"),
                                                    h.post("h1", "deal.contact_logged", 3, channel="email")]))
    assert [p for p, _, _ in events] == [e.position for e in later]


def test_streams_at_the_same_position_share_one_read_of_each_page(server, fresh_engine):
    """16 streams (half of them filtered by deal) wait at the head; one post reaches them all
    through one shared read of the new page, not one read per stream (200 of those per post
    took a simple GET's p99 to 117-330 ms, test_event_stream_load)."""
    h = History(fresh_engine)
    h.create("s1", 0)
    streams, opened, page_reads = 16, threading.Semaphore(0), []

    def count_page_reads(conn, cursor, statement, parameters, context, executemany):
        if "FROM events.event" in statement and "events.event.position >" in statement:
            page_reads.append(statement)
    keys = [key_headers(fresh_engine, "auditor") for _ in range(2)]
    with ThreadPoolExecutor(streams) as pool:
        readers = [pool.submit(read_events, server, keys[i % 2], 1, {"deal_id": "s1"} if i % 2 else None,
                               then=opened.release) for i in range(streams)]
        for _ in range(streams):
            assert opened.acquire(timeout=PATIENCE), "a stream did not open"
        sa_event.listen(fresh_engine, "before_cursor_execute", count_page_reads)
        try:
            posted = h.post("s1", "deal.contact_logged", 1, channel="call")
            got = [r.result(timeout=PATIENCE) for r in readers]
        finally:
            sa_event.remove(fresh_engine, "before_cursor_execute", count_page_reads)
    assert [[p for p, _, _ in events] for events in got] == [[posted.position]] * streams
    assert page_reads, "the page reads were not seen"  # (the count below is of something)
    # Each stream had to read the post's page after it was posted: one read each would be >= 16.
    assert len(page_reads) < streams / 2, f"{len(page_reads)} reads of the log's pages for {streams} streams"


def test_catch_up_comes_in_order_across_pages(server, fresh_engine):
    deals = [f"p{i}" for i in range(300)]
    commands = [Command(d, event_adapter.validate_python(f.created())) for d in deals]
    commands += [Command(d, event_adapter.validate_python(f.contact())) for d in deals for _ in range(3)]
    appended = append_events(fresh_engine, commands, CTX, currency="USD", batch=True)  # 1,200: 3 pages
    first = min(r.envelope.position for r in appended) - 1
    events = read_events(server, key_headers(fresh_engine, "auditor"), 1200, {"after": first}, timeout=60)
    assert [p for p, _, _ in events] == sorted(r.envelope.position for r in appended)
    assert [d["event_id"] for _, _, d in events] == [r.envelope.event_id for r in
                                                     sorted(appended, key=lambda r: r.envelope.position)]


def test_the_ninth_stream_of_a_key_is_refused_until_one_closes(server, fresh_engine):
    headers = key_headers(fresh_engine, "auditor")
    with httpx.Client(timeout=10) as client, ExitStack() as streams:
        opened = [streams.enter_context(client.stream("GET", f"{server}/v1/events/stream", headers=headers))
                  for _ in range(8)]
        assert [r.status_code for r in opened] == [200] * 8
        ninth = client.get(f"{server}/v1/events/stream", headers=headers)
        assert ninth.status_code == 429
        assert ninth.json()["error"]["code"] == "too_many_streams" and ninth.json()["error"]["details"]["limit"] == 8
        with client.stream("GET", f"{server}/v1/events/stream", headers=key_headers(fresh_engine, "auditor")) as other:
            assert other.status_code == 200  # the cap is per key
        opened[0].close()

        def reopens() -> bool:
            with client.stream("GET", f"{server}/v1/events/stream", headers=headers) as again:
                return again.status_code == 200
        until(reopens, timeout=30, interval=0.1)  # the closed stream's slot is given back
