"""Readiness verdicts for the relay and worker, and the cached broker probe."""
import socket
from contextlib import closing

from services.readiness import STALL_SECONDS, BrokerProbe, Check, _host_port, follower


def test_a_follower_with_nothing_waiting_is_fine_even_without_a_session():
    assert follower(False, None, None).ok is True


def test_a_follower_without_a_session_is_down_once_work_waits():
    check = follower(False, 0.2, 5.0)
    assert (check.ok, check.reason) == (False, "not running")
    assert check.to_dict() == {"ok": False, "running": False, "seconds_behind": 0.2, "reason": "not running"}


def test_a_follower_behind_is_stalled_only_when_its_checkpoint_stands_still():
    assert follower(True, STALL_SECONDS + 5, 1.0).ok is True  # catching up on a backlog
    assert follower(True, STALL_SECONDS + 5, STALL_SECONDS + 1).reason == "stalled"
    assert follower(True, STALL_SECONDS + 5, None).reason == "stalled"


def test_bootstrap_servers_parse():
    assert _host_port("127.0.0.1:9092") == ("127.0.0.1", 9092)
    assert _host_port(" kafka ") == ("kafka", 9092)
    assert _host_port("PLAINTEXT://broker-1:19092") == ("broker-1", 19092)
    assert _host_port("[::1]:9093") == ("::1", 9093)


def test_broker_probe_connects_and_caches():
    with closing(socket.socket()) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe = BrokerProbe(f"127.0.0.1:1,127.0.0.1:{port}", ttl=60)
        assert probe.check() == Check(True)
    assert probe.check() == Check(True), "cached: not probed again within ttl"
    probe.ttl = 0
    assert probe.check() == Check(False, "unreachable")
    assert BrokerProbe(None).check() == Check(None, "not configured")
