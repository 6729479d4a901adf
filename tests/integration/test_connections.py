"""Connections a client leaves half done (issue 23, point 8): a client that hangs up mid-body
is logged and counted as 499, not as a 500 with a traceback; a connection that sends nothing,
part of its headers, or headers and part of a body is closed within the read timeout."""
import logging
import socket
import threading
import time

import pytest
import uvicorn

from infra.embedded import free_port
from infra.settings import Settings
from services.api.app import create_app
from services.api.plumbing import protocol
from tests import waiting
from tests.keys import admin_headers

READ_TIMEOUT = 2.0


@pytest.fixture
def server(fresh_engine, monkeypatch):
    monkeypatch.setenv("DEALTRAIL_READ_TIMEOUT_SECONDS", str(READ_TIMEOUT))
    protocol.read_timeout.cache_clear()
    port = free_port()
    app = create_app(Settings(DATABASE_URL="unused"), engine=fresh_engine)
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                            http=protocol.TimedHttpProtocol))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    waiting.until(lambda: running.started, timeout=30)
    yield app, port
    running.should_exit = True
    thread.join(30)
    protocol.read_timeout.cache_clear()


def _post_head(port: int, headers: dict, length: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    lines = ["POST /v1/deals/d-half/events HTTP/1.1", f"Host: 127.0.0.1:{port}",
             "Content-Type: application/json", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closed the connection (recv returns b'' or resets)."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def _counted_statuses(app) -> set[str]:
    """The statuses dealtrail_http_request_seconds counted requests under."""
    from prometheus_client import generate_latest
    text = generate_latest(app.state.metrics.registry).decode()
    return {line.split('status="')[1].split('"')[0] for line in text.splitlines()
            if line.startswith("dealtrail_http_request_seconds_count")}


def test_a_client_that_hangs_up_mid_body_is_a_499_not_a_500(server, fresh_engine, caplog):
    app, port = server
    with caplog.at_level(logging.INFO):
        sock = _post_head(port, admin_headers(fresh_engine), 1000)
        sock.sendall(b'{"type": "deal.created", "data": {')
        time.sleep(0.2)  # the server is reading the body
        sock.close()
        waiting.until(lambda: [r for r in caplog.records if r.name == "dealtrail.access"], timeout=30)
    access = [r for r in caplog.records if r.name == "dealtrail.access"]
    assert [(r.path, r.status) for r in access] == [("/v1/deals/d-half/events", 499)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert _counted_statuses(app) == {"499"}


def test_a_stalled_body_is_closed_within_the_read_timeout(server, fresh_engine, caplog):
    app, port = server
    with caplog.at_level(logging.INFO):
        sock = _post_head(port, admin_headers(fresh_engine), 1000)
        sock.sendall(b'{"type": "deal.created", "data": {')
        took = _closed_within(sock, 30)
        waiting.until(lambda: [r for r in caplog.records if r.name == "dealtrail.access"], timeout=30)
    assert READ_TIMEOUT * 0.9 <= took < READ_TIMEOUT + 10, took
    access = [r for r in caplog.records if r.name == "dealtrail.access"]
    assert [r.status for r in access] == [499]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("sent", [b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"], ids=["nothing", "half-headers"])
def test_a_connection_without_a_whole_request_is_closed(server, sent):
    _, port = server
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(sent)
    took = _closed_within(sock, 30)
    assert READ_TIMEOUT * 0.9 <= took < READ_TIMEOUT + 10, took


def test_a_slow_but_steady_request_is_served_and_the_connection_kept(server, fresh_engine):
    """The deadline is per request: after an answer the next request has as long again."""
    _, port = server
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    for _ in range(2):
        time.sleep(READ_TIMEOUT / 2)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    sock.close()
