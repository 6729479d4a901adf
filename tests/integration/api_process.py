"""`dealtrail api` as its own process on a test database, for what only a real process shows
(its RSS, its event loop under many connections); stopped (SIGTERM, then SIGKILL) at exit."""
import os
import signal
import subprocess
import sys
from contextlib import contextmanager

import httpx

from infra.embedded import free_port
from tests.waiting import until


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def api_process(engine, **env: str):
    """Yields (base URL, the process) of an API serving `engine`'s database."""
    port = free_port()
    environ = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False), **env}
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "api", "--port", str(port)], env=environ,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: proc.poll() is None and _healthy(url) or proc.poll() is not None, timeout=60, interval=0.1)
        assert proc.poll() is None, f"the API exited with {proc.returncode}"
        yield url, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
