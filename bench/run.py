"""Benchmarks of SPEC §7 for the event store and relay, each against a baseline measured in
the same run on the same embedded PostgreSQL and broker. `make bench` (or
`python -m bench.run --seconds 5`). Prints figures and ratios; asserts nothing."""
import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import psutil

from bench import baselines
from events.relay import Relay, RelayConfig, relay_lag
from infra.db import make_engine
from infra.embedded import EmbeddedBroker, EmbeddedPostgres, free_port, wait_for_port
from infra.migrate import upgrade

CONTACT = {"type": "deal.contact_logged", "data": {"channel": "call", "summary": "intro call with the buyer",
                                                   "duration_minutes": 15}}


def created(title: str) -> dict:
    return {"type": "deal.created", "data": {"title": title, "customer": {"id": "c", "name": "C"},
                                             "owner_id": "rep-1", "team_id": "team-a"}}


class Api:
    def __init__(self, url: str, workers: int):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url}
        self.proc = subprocess.Popen([sys.executable, "-m", "services.cli", "api", "--port", str(self.port),
                                      "--workers", str(workers)], env=env)
        wait_for_port("127.0.0.1", self.port, 30, self.proc)
        self.base = f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        proc = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


HEADERS: dict[str, str] = {}  # the bench's admin key, set in main()


def _admin_key(url: str) -> None:
    """The API needs a key (SPEC §6); its lookup is cached, so appends pay a dict lookup."""
    from services import keys
    engine = make_engine(url, pool_size=1)
    _, secret = keys.create(engine, f"bench-{os.getpid()}", keys.Role.ADMIN)
    engine.dispose()
    HEADERS["Authorization"] = f"Bearer {secret}"


async def _post_loop(host: str, port: int, deal: str, deadline: float) -> int:
    """One keep-alive connection posting contacts; raw HTTP/1.1 so the load generator costs
    far less CPU than the server it measures."""
    body = json.dumps(CONTACT).encode()
    request = (f"POST /v1/deals/{deal}/events HTTP/1.1\r\nHost: {host}\r\n"
               f"Authorization: {HEADERS['Authorization']}\r\n"
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


async def _http_appends(base: str, clients: int, seconds: float) -> int:
    url = urlparse(base)
    deals = [f"h{os.getpid()}-{i}" for i in range(clients)]
    with httpx.Client(base_url=base, timeout=60, headers=HEADERS) as client:
        client.post("/v1/events/batch", json={"events": [{"deal_id": d, **created(d)} for d in deals]})
    deadline = time.monotonic() + seconds
    counts = await asyncio.gather(*(_post_loop(url.hostname, url.port, d, deadline) for d in deals))
    return sum(counts)


def http_append_rate(base: str, clients: int, seconds: float) -> float:
    return asyncio.run(_http_appends(base, clients, seconds)) / seconds


def http_batch_rate(base: str, batches: int, size: int) -> float:
    with httpx.Client(base_url=base, timeout=120, headers=HEADERS) as client:
        started = time.perf_counter()
        for b in range(batches):
            events = [{"deal_id": f"b{os.getpid()}-{b}-{i}", **created("t")} for i in range(size)]
            r = client.post("/v1/events/batch", json={"events": events})
            assert r.status_code == 201, r.text
        return batches * size / (time.perf_counter() - started)


def relay_rate(url: str, bootstrap: str) -> tuple[float, int, list[tuple[bytes, bytes]]]:
    """Relay a backlog from scratch; returns (events/s, count, the messages for the baseline)."""
    engine = make_engine(url, app_role="dealtrail_app", pool_size=3)
    with engine.connect() as conn:
        head = relay_lag(conn, "bench")["head_position"]
    relay = Relay(engine, RelayConfig(bootstrap=bootstrap, topic="bench.relay", name="bench", batch=2000))
    stop = threading.Event()
    started = time.perf_counter()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    while relay.position < head:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    from events.log_reader import read_committed
    page = read_committed(engine, 0, 1_000_000)
    messages = [(e.deal_id.encode(), e.to_json().encode()) for e in page.envelopes]
    engine.dispose()
    return relay.published / elapsed, relay.published, messages


def report(rows: list[tuple[str, float, str, float, str]]) -> None:
    print(f"\n{'figure':<44}{'dealtrail':>12}  {'baseline':<38}{'value':>10}{'ratio':>8}  target")
    for name, ours, base_name, base, target in rows:
        print(f"{name:<44}{ours:>12,.0f}  {base_name:<38}{base:>10,.0f}{ours / base:>8.2f}  {target}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dealtrail-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp), database="bench")
        url = pg.start()
        socket_dir = parse_qs(urlparse(url).query)["host"][0]
        broker = EmbeddedBroker()
        bootstrap = broker.start()
        upgrade(url)
        _admin_key(url)
        api = Api(url, args.workers)
        try:
            rows = []
            raw1 = baselines.raw_single_row_rate(url, args.clients, args.seconds)
            ours1 = http_append_rate(api.base, args.clients, args.seconds)
            peer = baselines.eventsourcing_rate(socket_dir, "bench", args.clients, args.seconds)
            rows.append((f"HTTP append, 1/request, {args.clients} clients (ev/s)", ours1,
                         f"raw 1-row INSERT txns, {args.clients} conns", raw1, ">= 0.5"))
            rows.append(("", ours1, "eventsourcing recorder, same clients", peer, ">= 5"))
            rawb = baselines.raw_batch_rate(url, 20, 1000)
            oursb = http_batch_rate(api.base, 20, 1000)
            rows.append(("batch append, 1,000/request (ev/s)", oursb, "raw execute_values 1,000/txn", rawb, ">= 0.5"))
            api_rss = api.rss_mb()
            ours_r, count, messages = relay_rate(url, bootstrap)
            raw_p = baselines.raw_produce_rate(bootstrap, "bench.raw", messages)
            rows.append((f"relay publish, {count:,} events (ev/s)", ours_r, "raw kafka-python producer", raw_p, ">= 0.7"))
            report(rows)
            print(f"\nAPI RSS after the runs ({args.workers} workers + master): {api_rss:.0f} MB")
        finally:
            api.stop()
            broker.stop()
            pg.stop()


if __name__ == "__main__":
    main()
