"""Load over the HTTP API: single-event appends from many keep-alive clients, 1,000-event
batches, report latencies (live and as_of)."""
import asyncio
import json
import re
import time
from datetime import datetime, timedelta
from urllib.parse import urlparse

import httpx

CONTACT = {"type": "deal.contact_logged", "data": {"channel": "call", "summary": "intro call with the buyer",
                                                   "duration_minutes": 15}}


def created(title: str) -> dict:
    return {"type": "deal.created", "data": {"title": title, "customer": {"id": "c", "name": "C"},
                                             "owner_id": "rep-1", "team_id": "team-a"}}


async def _post_loop(host: str, port: int, auth: str, deal: str, deadline: float) -> int:
    """One keep-alive connection posting contacts; raw HTTP/1.1 so the load generator costs
    far less CPU than the server it measures."""
    body = json.dumps(CONTACT).encode()
    request = (f"POST /v1/deals/{deal}/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    while time.monotonic() < deadline:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        await reader.readexactly(length)
        assert status == 201, head
        n += 1
    writer.close()
    return n


async def _appends(base: str, headers: dict, clients: int, seconds: float) -> int:
    url = urlparse(base)
    deals = [f"h{time.time_ns()}-{i}" for i in range(clients)]
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        client.post("/v1/events/batch", json={"events": [{"deal_id": d, **created(d)} for d in deals]})
    deadline = time.monotonic() + seconds
    counts = await asyncio.gather(*(_post_loop(url.hostname, url.port, headers["Authorization"], d, deadline)
                                    for d in deals))
    return sum(counts)


def append_rate(base: str, headers: dict, clients: int, seconds: float) -> float:
    return asyncio.run(_appends(base, headers, clients, seconds)) / seconds


def batch_rate(base: str, headers: dict, batches: int, size: int) -> float:
    with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
        started = time.perf_counter()
        for b in range(batches):
            events = [{"deal_id": f"b{time.time_ns()}-{b}-{i}", **created("t")} for i in range(size)]
            r = client.post("/v1/events/batch", json={"events": events})
            assert r.status_code == 201, r.text
        return batches * size / (time.perf_counter() - started)


REPORTS = {"funnel": ("/v1/reports/funnel", {"mode": "cohort"}),
           "cycle-time": ("/v1/reports/cycle-time", {}),
           "performance": ("/v1/reports/performance", {"period": str(datetime.now().year)})}


def report_seconds(base: str, headers: dict, report: str, runs: int) -> list[float]:
    path, params = REPORTS[report]
    times = []
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        for i in range(runs + 3):  # three warm-ups
            started = time.perf_counter()
            r = client.get(path, params=params)
            assert r.status_code == 200, r.text
            if i >= 3:
                times.append(time.perf_counter() - started)
    return times


def as_of_seconds(base: str, headers: dict, first: datetime, last: datetime, runs: int,
                  budget: float) -> tuple[list[float], float | None]:
    """Reports as of moments spread over [first, last], each a new microsecond, rotating over the
    three reports, until `runs` answered or `budget` seconds are spent; (seconds of each answer,
    seconds the request cut off by the budget had run, if one was)."""
    times, started = [], time.monotonic()
    with httpx.Client(base_url=base, headers=headers) as client:
        for i in range(runs):
            left = budget - (time.monotonic() - started)
            if left <= 0:
                break
            moment = first + (last - first) * ((i * 0.618) % 1) + timedelta(microseconds=i + 1)
            path, params = list(REPORTS.values())[i % 3]
            t = time.perf_counter()
            try:
                r = client.get(path, params={**params, "as_of": moment.isoformat()}, timeout=max(left, 1))
            except httpx.TimeoutException:
                return times, time.perf_counter() - t
            assert r.status_code == 200, r.text
            times.append(time.perf_counter() - t)
    return times, None
