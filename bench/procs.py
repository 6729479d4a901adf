"""Dealtrail processes started the way a user starts them (`python -m services.cli <command>`),
and a thread sampling the peak RSS of each role (api, relay, project, ...) over the bench's
process tree, so `up`'s children count too."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROLES = ("api", "relay", "project", "rebuild", "up", "watch")


def cli(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115 - closed with the process (Popen keeps the fd)
    return subprocess.Popen([sys.executable, "-m", "services.cli", *command], env={**os.environ, **env},
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the uvicorn workers go too
        proc.wait()


def _role(proc: psutil.Process, inherited: str | None) -> str | None:
    try:
        argv = proc.cmdline()
    except psutil.Error:
        return inherited
    if "services.cli" in argv:
        after = argv[argv.index("services.cli") + 1:]
        return next((a for a in after if a in ROLES), inherited)
    return inherited


class RssSampler(threading.Thread):
    """Peak RSS per role, in MB: `peak` of the largest single process, `tree` of all its processes
    together (the API's master and uvicorn workers)."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval, self.peak, self.tree = interval, {}, {}
        self._done = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self._done.wait(self.interval):
            sums: dict[str, float] = {}
            stack = [(child, None) for child in me.children()]
            while stack:
                proc, inherited = stack.pop()
                role = _role(proc, inherited)
                try:
                    rss = proc.memory_info().rss / 2**20
                    stack.extend((c, role) for c in proc.children())
                except psutil.Error:
                    continue
                if role:
                    self.peak[role] = max(self.peak.get(role, 0.0), rss)
                    sums[role] = sums.get(role, 0.0) + rss
            for role, total in sums.items():
                self.tree[role] = max(self.tree.get(role, 0.0), total)

    def close(self) -> None:
        self._done.set()
        self.join()


def wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
