"""GET /v1/events/stream against a real server: events as SSE in commit order (`id:` =
position), filters, resuming with Last-Event-ID, live delivery, strict parameters."""
import json
import threading

import httpx
import pytest
import uvicorn

from infra.embedded import free_port
from infra.settings import Settings
from services.api.app import create_app
from tests.integration.projection_helpers import History
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
    every = read_events(server, headers, 5)[1:]  # the first: the default pipeline's definition
    assert [(p, t) for p, t, _ in every] == [(e.position, e.type) for e in posted]
    assert every[2][2]["hash"] == posted[2].hash and every[2][2]["deal_id"] == "s1"
    only = read_events(server, headers, 3, {"deal_id": "s1"})
    assert [p for p, _, _ in only] == [posted[0].position, posted[2].position, posted[3].position]
    typed = read_events(server, headers, 1, {"type": "deal.stage_moved"})
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
    writer = httpx.get(f"{server}/v1/events/stream", headers=key_headers(fresh_engine, "writer"), timeout=PATIENCE)
    assert writer.status_code == 403
