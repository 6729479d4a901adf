"""`up` tells hand-started relays and workers where its embedded broker is; a file left by a
dead `up` is not believed, and an `up` removes only its own file."""
import json
import subprocess
import sys

from infra import broker_address


def test_a_live_up_is_found(tmp_path):
    broker_address.record(tmp_path, "127.0.0.1:4321")
    assert broker_address.running(tmp_path) == "127.0.0.1:4321"
    broker_address.forget(tmp_path)
    assert broker_address.running(tmp_path) is None
    assert not (tmp_path / broker_address.FILE).exists()


def test_the_file_of_a_dead_up_is_stale(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (tmp_path / broker_address.FILE).write_text(json.dumps(
        {"bootstrap": "127.0.0.1:4321", "pid": int(dead.stdout)}))
    assert broker_address.running(tmp_path) is None


def test_forget_leaves_another_ups_file(tmp_path):
    (tmp_path / broker_address.FILE).write_text(json.dumps({"bootstrap": "127.0.0.1:1", "pid": 1}))
    broker_address.forget(tmp_path)
    assert (tmp_path / broker_address.FILE).exists()


def test_no_file_no_broker(tmp_path):
    assert broker_address.running(tmp_path / "nowhere") is None
