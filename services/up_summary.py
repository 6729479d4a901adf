"""The last lines `dealtrail up` prints, once the API is ready: the admin key (first start
only, exactly `admin API key: <key>`: scripts grep it), the API, dashboard and docs URLs.
Printed last so they are not lost among the services' startup lines (migration notes are
at DEBUG: services.logs)."""
import threading
import time
from collections.abc import Callable

import httpx

from infra.processes import Output
from infra.settings import Settings

READY_WAIT_SECONDS = 120.0


def summary(settings: Settings, secret: str | None) -> list[str]:
    base = f"http://{settings.host}:{settings.port}"
    return ([f"admin API key: {secret}"] if secret else []) + [
        f"API:       {base}", f"dashboard: {base}/dashboard", f"docs:      {base}/docs",
        "Ctrl-C stops everything"]


def announce_when_ready(settings: Settings, secret: str | None, output: Output,
                        stop: threading.Event, all_started: Callable[[], bool]) -> None:
    """From a thread (it only polls; children are started from the main thread): once the
    API is ready and every unit started, so no startup line of `up` comes after."""
    def wait_then_print():
        ready = _wait_ready(settings, stop, all_started)
        if stop.is_set():
            return
        note = [] if ready else [f"(the API was not ready after {READY_WAIT_SECONDS:.0f} s; see /readyz)"]
        output.plain(note + summary(settings, secret))
    threading.Thread(target=wait_then_print, name="up-summary", daemon=True).start()


def _wait_ready(settings: Settings, stop: threading.Event, all_started: Callable[[], bool]) -> bool:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    url = f"http://{host}:{settings.port}/readyz"
    deadline = time.monotonic() + READY_WAIT_SECONDS
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            if all_started() and httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        stop.wait(0.3)
    return False
