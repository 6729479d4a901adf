"""Under `dealtrail up` (its own embedded PostgreSQL and broker, its API, relay and worker), with the
admin key it writes to <data-dir>/admin.key: batch append -> projected, end to end (and the
HTTP append load of bench.api_load against it, in bench.run)."""
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import httpx

from bench import procs
from infra.embedded import free_port, wait_for_port
from services.demo import generate

WATERMARK = re.compile(r'^dealtrail_projection_position\{[^}]*\} ([0-9.e+]+)$', re.M)


def _watermark(client: httpx.Client) -> int:
    match = WATERMARK.search(client.get("/metrics").text)
    return int(float(match.group(1))) if match else 0


def _batches(events: int, size: int = 1000) -> list[list[dict]]:
    end = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    items = []
    for item in generate(events // 8 + 10, 9, end):
        items.append({**item, "deal_id": "e2e-" + item["deal_id"]})
        if len(items) == events:
            break
    return [items[i:i + size] for i in range(0, len(items), size)]


def _post(client: httpx.Client, events: list[dict]) -> int:
    r = client.post("/v1/events/batch", json={"events": events})
    assert r.status_code == 201, r.text[:500]
    return max(x["position"] for x in r.json()["results"])


@contextmanager
def up_instance(tmp: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A `dealtrail up` of its own (embedded PostgreSQL and broker, API, relay, worker, watcher),
    ready: (its base URL, the admin key's headers)."""
    port, data_dir = free_port(), tmp / "up"
    proc = procs.cli(["up", "--port", str(port), "--data-dir", str(data_dir)], {}, tmp / "up.log")
    try:
        key_file = data_dir / "admin.key"
        procs.wait_until(key_file.exists, 120)
        wait_for_port("127.0.0.1", port, 120, proc)
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key_file.read_text().strip()}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            procs.wait_until(lambda: client.get("/readyz").status_code == 200, 60)
        yield base, headers
    finally:
        procs.stop(proc, 60)


def batch_to_projected(base: str, headers: dict[str, str], events: int,
                       budget: float) -> tuple[float | None, int, float]:
    """(events/s from the first POST until the watermark covers the last event, or None if not
    within `budget`; events projected; seconds)."""
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        warm = _post(client, [{"deal_id": "e2e-warm", "type": "deal.created", "data": {
            "title": "w", "customer": {"id": "c", "name": "C"}, "owner_id": "rep-1"}}])
        procs.wait_until(lambda: _watermark(client) >= warm, 60)  # the worker has joined its group
        batches = _batches(events)
        started = time.perf_counter()
        last = max(_post(client, b) for b in batches)
        done = procs.wait_until(lambda: _watermark(client) >= last, budget, interval=0.05)
        elapsed = time.perf_counter() - started
        posted = sum(len(b) for b in batches)
        projected = posted if done else _watermark(client) - warm  # other services append a few too
        return (posted / elapsed if done else None), projected, elapsed
