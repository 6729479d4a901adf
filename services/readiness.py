"""What `/readyz` reports: each dependency's state, judged cheaply because readiness is polled.

- database: a trivial query answers.
- broker: a TCP connection to a bootstrap server opens; the answer is kept a moment.
- relay, worker: processes elsewhere, judged from the database. A live one keeps a session
  named `dealtrail-relay` / `dealtrail-worker` (its PGAPPNAME), and the oldest event waiting
  for it may not be older than STALL_SECONDS while its checkpoint stands still. An idle one
  with nothing waiting is fine even without a session (it reconnects when work arrives).

Reasons are fixed words: no paths, socket names or exception texts reach the response."""
import socket
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from projections import sales_projection as sales
from projections.reports import readiness as progress_of

STALL_SECONDS = 30.0
RELAY, WORKER = "relay", "worker"


def application_name(service: str) -> str:
    return f"dealtrail-{service}"


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: could not be judged (its source is down, or it is not configured)
    reason: str | None = None
    details: tuple[tuple[str, object], ...] = ()

    def to_dict(self) -> dict:
        out: dict = {"ok": self.ok, **dict(self.details)}
        if self.reason:
            out["reason"] = self.reason
        return out


def follower(running: bool, waiting: float | None, moved_ago: float | None) -> Check:
    """A relay or worker: `waiting` is the age in seconds of the oldest event it has not
    handled (None: none), `moved_ago` the age of its checkpoint (None: never moved)."""
    details = (("running", running), ("seconds_behind", round(waiting or 0.0, 3)))
    if waiting is None:
        return Check(True, None, details)
    if not running:
        return Check(False, "not running", details)
    if waiting > STALL_SECONDS and (moved_ago is None or moved_ago > STALL_SECONDS):
        return Check(False, "stalled", details)
    return Check(True, None, details)


def database_checks(engine: Engine) -> dict[str, Check]:
    """database, relay and worker, from one short transaction."""
    try:
        with engine.begin() as conn:
            progress_of.limit_time(conn)
            return {"database": Check(True), RELAY: _follower(conn, RELAY, progress_of.relay_progress(conn)),
                    WORKER: _follower(conn, WORKER, progress_of.projection_progress(conn, sales.NAME))}
    except SQLAlchemyError:
        unknown = Check(None, "database unavailable")
        return {"database": Check(False, "unavailable"), RELAY: unknown, WORKER: unknown}


def _follower(conn: Connection, service: str, progress: tuple) -> Check:
    """`progress`: (age of the oldest event waiting for it, age of its last checkpoint move)."""
    sessions = progress_of.sessions(conn, application_name(service))
    waiting, moved_ago = progress
    return follower(sessions > 0, _seconds(waiting), _seconds(moved_ago))


def _seconds(value) -> float | None:
    return None if value is None else float(value)


class BrokerProbe:
    """A TCP connect to the first reachable bootstrap server, remembered for `ttl` seconds
    so a readiness poll never waits on the broker more than once in a while."""

    def __init__(self, bootstrap: str | None, ttl: float = 1.0, timeout: float = 0.5):
        self.servers = [_host_port(s) for s in (bootstrap or "").split(",") if s.strip()]
        self.ttl, self.timeout = ttl, timeout
        self._lock = threading.Lock()
        self._cached: tuple[float, Check] | None = None

    def check(self) -> Check:
        if not self.servers:
            return Check(None, "not configured")
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.ttl:
                self._cached = (time.monotonic(), self._probe())
            return self._cached[1]

    def _probe(self) -> Check:
        for host, port in self.servers:
            try:
                with socket.create_connection((host, port), timeout=self.timeout):
                    return Check(True)
            except OSError:
                continue
        return Check(False, "unreachable")


def _host_port(server: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port`, `PLAINTEXT://host:port` or a bare host (port 9092)."""
    address = server.strip().split("://")[-1]
    host, colon, port = address.rpartition(":")
    if not colon or "]" in port:
        return address.strip("[]"), 9092
    return host.strip("[]"), int(port)
