"""kill -9 of the relay, the worker, the broker and PostgreSQL under `dealtrail up` with a steady
write load: `up` keeps running and brings each back, the API answers 503 (never 500) while the
database is down, /readyz names what is broken, no acknowledged append is lost, and the read
models end equal to a rebuild."""
import os
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import text

from infra.db import make_engine
from tests.e2e.helpers import Up, wait_until
from tests.integration.worker_helpers import caught_up, rebuilt, tables
from tests.waiting import PATIENCE

pytestmark = pytest.mark.slow


class Load(threading.Thread):
    """One client writing deals (create, contacts, a stage move), retrying each event with its
    own event_id until acknowledged — as a careful client would."""

    def __init__(self, base: str, headers: dict[str, str]):
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base, timeout=5, headers=headers)
        self.halt = threading.Event()
        self.acked: list[str] = []
        self.answers: Counter = Counter()  # status (and error code) of every response

    def run(self):
        while not self.halt.is_set():
            deal = f"load-{uuid.uuid4().hex[:10]}"
            for body in self._history():
                if not self._post(deal, {"event_id": str(uuid.uuid4()), **body}):
                    return

    @staticmethod
    def _history():
        yield {"type": "deal.created", "data": {"title": "t", "customer": {"id": "c1", "name": "C"},
                                                "owner_id": "rep-1", "expected_amount": "100.00",
                                                "currency": "USD"}}
        yield {"type": "deal.contact_logged", "data": {"channel": "call"}}
        yield {"type": "deal.stage_moved", "data": {"from_stage": "lead", "to_stage": "contacted"}}

    def _post(self, deal: str, body: dict) -> bool:
        while not self.halt.is_set():
            try:
                r = self.client.post(f"/v1/deals/{deal}/events", json=body)
            except httpx.HTTPError:
                self.answers["no answer"] += 1
                time.sleep(0.05)
                continue
            code = r.json().get("error", {}).get("code") if r.status_code >= 400 else None
            self.answers[(r.status_code, code)] += 1
            if r.status_code in (200, 201):
                self.acked.append(body["event_id"])
                time.sleep(0.01)
                return True
            time.sleep(0.05)
        return False


class Readiness(threading.Thread):
    """Polls /readyz and remembers which dependency it ever reported as not ok."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base, self.halt = base, threading.Event()
        self.down: dict[str, set[str]] = {}
        self.phase = "start"

    def run(self):
        while not self.halt.wait(0.1):
            try:
                checks = httpx.get(self.base + "/readyz", timeout=2).json()["checks"]
            except (httpx.HTTPError, ValueError):
                continue
            for name, check in checks.items():
                if check["ok"] is False:
                    self.down.setdefault(self.phase, set()).add(name)


def child(up: Up, *words: str) -> psutil.Process:
    for proc in psutil.Process(up.proc.pid).children():
        if all(w in " ".join(proc.cmdline()) for w in words):
            return proc
    raise AssertionError(f"no child of up runs {words}")


def postmaster(data: Path) -> tuple[int, str]:
    lines = (data / "pg" / "postmaster.pid").read_text().splitlines()
    return int(lines[0]), f"postgresql://postgres@/dealtrail?host={lines[4]}"


def test_up_brings_back_whatever_is_killed_and_loses_nothing(tmp_path, migrated):
    up = Up(tmp_path, template=migrated)
    try:
        up.wait_ready()
        load, ready = Load(up.base, up.headers), Readiness(up.base)
        load.start(), ready.start()
        victims = {"relay": lambda: child(up, "services.cli", "relay").pid,
                   "worker": lambda: child(up, "services.cli", "project").pid,
                   "broker": lambda: child(up, "--listener-url").pid,
                   "postgres": lambda: postmaster(tmp_path / "data")[0]}
        for name, pid in victims.items():
            _kill_and_recover(up, load, ready, name, pid())
        load.halt.set(), load.join(PATIENCE)
        ready.halt.set(), ready.join(PATIENCE)
        _check_nothing_lost(tmp_path / "data", load)
        assert (503, "unavailable") in load.answers, load.answers
        assert not [a for a in load.answers if a != "no answer" and a[0] >= 500 and a[0] != 503], load.answers
        reported = {"relay": "relay", "worker": "worker", "broker": "broker", "postgres": "database"}
        assert {name: check in ready.down.get(name, set()) for name, check in reported.items()} == \
            dict.fromkeys(reported, True), ready.down
        assert up.interrupt() == 0
    finally:
        print("".join(line for line in up.lines if "ERROR   kafka" not in line))  # shown when it fails
        if up.proc.poll() is None:
            up.interrupt()
    assert not (tmp_path / "data" / "pg" / "postmaster.pid").exists(), "PostgreSQL left running"


def _kill_and_recover(up: Up, load: Load, ready: Readiness, name: str, pid: int) -> None:
    """Back means: `up` restarted it, and an event acknowledged after that went all the way
    through the relay and the broker into the read models."""
    ready.phase = name
    wait_until(lambda: len(load.acked), lambda n: n > 20)
    killed_at, starts = time.monotonic(), _count(up, f"{name} started")
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: _count(up, f"{name} started"), lambda n: n > starts)
    acked = len(load.acked)
    wait_until(lambda: len(load.acked), lambda n: n > acked + 5)
    head = wait_until(lambda: _projections(up), bool)["relay"]["head_position"]
    wait_until(lambda: _projections(up), lambda p: p and p["projections"][0]["position"] >= head, timeout=2 * PATIENCE)
    wait_until(lambda: _ready(up), bool)
    assert up.proc.poll() is None, "".join(up.lines)
    print(f"{name}: flowing and ready again {time.monotonic() - killed_at:.1f}s after kill -9")


def _count(up: Up, words: str) -> int:
    return sum(words in line for line in up.lines)


def _projections(up: Up) -> dict | None:
    try:
        return httpx.get(up.base + "/v1/projections", headers=up.headers, timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return None


def _ready(up: Up) -> bool:
    try:
        return httpx.get(up.base + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _check_nothing_lost(data: Path, load: Load) -> None:
    engine = make_engine(postmaster(data)[1], pool_size=2)  # the owner: rebuilds need it
    try:
        wait_until(lambda: caught_up(engine), bool, timeout=2 * PATIENCE)
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT event_id::text FROM events.event")).scalars())
        assert load.acked and not set(load.acked) - stored
        assert tables(engine) == rebuilt(engine)
    finally:
        engine.dispose()
