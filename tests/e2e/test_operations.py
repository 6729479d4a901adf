"""Operating `dealtrail up` (issue 23, point 8): one `up` per data dir, a taken port and the
CLI's other expected failures said in one line, `status` saying DOWN, startup output that
ends with what a newcomer needs and warns about nothing, and children that never outlive
`up` however it dies."""
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from infra.embedded import free_port
from tests import waiting
from tests.e2e.helpers import Up, copy_data_dir
from tests.e2e.test_maintenance import dealtrail, postmaster

SUMMARY = ("API:", "dashboard:", "docs:")


def _own_lines(up: Up) -> list[str]:
    """What `up` itself printed (children's lines carry a `name |` prefix)."""
    return [line.rstrip("\n") for line in up.lines if " | " not in line[:12] and "|" not in line[:9]]


def _wait_summary(up: Up) -> None:
    waiting.until(lambda: any(line.startswith("docs:") for line in _own_lines(up)), timeout=120, interval=0.2)


def test_a_second_up_on_the_same_data_dir_is_refused_at_once_touching_nothing(up, tmp_path):
    up.wait_ready()
    broker_file = (up.data_dir / "broker.json").read_text()
    started = time.monotonic()
    second = dealtrail("up", "--port", str(free_port()), "--data-dir", str(up.data_dir), cwd=tmp_path)
    took = time.monotonic() - started
    assert second.returncode == 1, second.stdout + second.stderr
    said = (second.stdout + second.stderr).strip().splitlines()
    assert len(said) == 1 and f"pid {up.proc.pid}" in said[0], said
    assert took < 30, took  # it used to start a broker, relay, worker and watcher, then fail after ~20 s
    assert (up.data_dir / "broker.json").read_text() == broker_file
    assert httpx.get(f"{up.base}/readyz").status_code == 200
    assert up.interrupt() == 0
    again = Up(tmp_path)  # the lock went with the first `up`
    try:
        again.wait_ready()
    finally:
        assert again.interrupt() == 0


def test_a_killed_up_leaves_no_lock(tmp_path, migrated):
    first = Up(tmp_path, template=migrated)
    first.wait_ready()
    first.proc.kill()
    first.proc.wait()
    waiting.until(lambda: postmaster(first.data_dir) is None, timeout=60, interval=0.2)
    again = Up(tmp_path)
    try:
        again.wait_ready()
    finally:
        assert again.interrupt() == 0


def test_a_port_in_use_fails_at_once_naming_the_port(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        started = time.monotonic()
        result = dealtrail("up", "--port", str(port), "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
        took = time.monotonic() - started
    finally:
        taken.close()
    said = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1 and len(said) == 1 and f"port {port}" in said[0], said
    assert took < 15, took  # it used to retry the API for ~22 s
    assert not (tmp_path / "data" / "pg").exists()


def test_status_says_down_and_exits_1_with_nothing_running(tmp_path, migrated):
    copy_data_dir(migrated, tmp_path / "data")  # as `dealtrail migrate` leaves it
    result = dealtrail("status", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    marks = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()}
    assert marks == {"up": "DOWN", "api": "DOWN", "database": "OK", "broker": "DOWN",
                     "relay": "DOWN", "worker": "DOWN"}, result.stdout


def test_the_clis_expected_failures_are_one_line(tmp_path):
    cases = {
        "no API": ("demo", "--deals", "1", "--api-key", "k", "--api-url", f"http://127.0.0.1:{free_port()}"),
        "no database": ("verify", "--database-url", f"postgresql://nobody:secret@127.0.0.1:{free_port()}/none"),
        "bad URL": ("verify", "--database-url", "not a url"),
        "no admin key": ("demo", "--deals", "1", "--data-dir", str(tmp_path / "none")),
        "no broker": ("relay", "--data-dir", str(tmp_path / "none")),
    }
    for name, args in cases.items():
        result = dealtrail(*args, cwd=tmp_path, env={"DEALTRAIL_APP_PASSWORD": "x"})  # no SET ROLE warning
        said = (result.stdout + result.stderr).strip().splitlines()
        assert result.returncode != 0 and len(said) == 1 and "Traceback" not in said[0], (name, said)
        assert "secret" not in said[0], (name, said)


def test_version(tmp_path):
    result = dealtrail("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("dealtrail 0."), result.stdout


def test_startup_ends_with_the_key_and_urls_and_a_restart_warns_of_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    first = Up(tmp_path)
    try:
        first.wait_ready()
        _wait_summary(first)
        own = _own_lines(first)
        tail = own[own.index(next(line for line in own if line.startswith("admin API key: "))):]
        assert tail[0] == f"admin API key: {first.key}"
        assert [line.split()[0] for line in tail[1:4]] == list(SUMMARY), tail
        assert tail[1].endswith(first.base) and tail[2].endswith(f"{first.base}/dashboard")
        assert tail[3].endswith(f"{first.base}/docs")
        assert not [line for line in first.lines if "alembic" in line or "Running upgrade" in line]
    finally:
        assert first.interrupt() == 0
    again = Up(tmp_path)
    try:
        again.wait_ready()
        _wait_summary(again)
        waiting.until(lambda: any("worker joined group" in line for line in again.lines), timeout=60, interval=0.2)
        assert not [line for line in again.lines if "WARNING" in line or "Warning" in line], again.lines
        assert not [line for line in again.lines + first.lines if "XDG_RUNTIME_DIR" in line]
        assert not [line for line in again.lines if line.startswith("admin API key")]
        assert _own_lines(again)[-4].startswith("API:")
    finally:
        assert again.interrupt() == 0


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_children_never_outlive_a_killed_up(up):
    up.wait_ready()
    children = {" ".join(p.cmdline()[1:4]) or p.name(): p.pid for p in psutil.Process(up.proc.pid).children()}
    names = " ".join(children)
    for service in ("api", "relay", "project", "watch", "broker"):
        assert service in names, names
    server = postmaster(up.data_dir)
    assert server is not None
    pids = set(children.values()) | {server}
    up.proc.kill()
    up.proc.wait()
    waiting.until(lambda: all(_gone(pid) for pid in pids), timeout=60, interval=0.2)


def _handles_sigterm(pid: int) -> bool:
    with open(f"/proc/{pid}/status") as status:
        caught = next(line for line in status if line.startswith("SigCgt:")).split()[1]
    return bool(int(caught, 16) & (1 << (signal.SIGTERM - 1)))


@pytest.mark.parametrize("command", ["api", "relay", "project", "watch"])
def test_each_service_stops_within_seconds_on_sigterm(shared_up, tmp_path, command):
    """Run beside `up` on its data dir; SIGTERM twice back to back (as the parent-death signal
    comes when `up` dies: once per re-parenting), as soon as it handles SIGTERM."""
    up = shared_up
    args = ["--port", str(free_port())] if command == "api" else []
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", command, "--data-dir", str(up.data_dir), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)
    try:
        waiting.until(lambda: proc.poll() is not None or _handles_sigterm(proc.pid), timeout=120, interval=0.1)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            pytest.fail(f"{command} still ran 20 s after SIGTERM")
