"""`dealtrail up --pg-port N`: the embedded PostgreSQL itself listens on 127.0.0.1:N, and its
pg_hba lets only SCRAM logins of neither the owner nor the app role in over TCP. No startup
packet of ours to parse: a repeated `user` key is read by the server, as the server reads it."""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from infra import logins
from infra.embedded import EmbeddedPostgres, free_port
from infra.migrate import upgrade

PROTOCOL_3 = 196608
AUTH_OK, AUTH_SASL = 0, 10


@pytest.fixture
def data_dir():
    """Not under pytest's tmp dirs: another pytest run of this user makes their root 0700 again,
    and the server runs as the wheel's own OS user when we are root."""
    with tempfile.TemporaryDirectory(prefix="dealtrail-bi-port-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module")
def served():
    """A migrated embedded server listening on TCP, with app, BI and one bi-login."""
    with tempfile.TemporaryDirectory(prefix="dealtrail-bi-port-") as tmp:
        yield from _served(Path(tmp))


def _served(data_dir: Path):
    port = free_port()
    postgres = EmbeddedPostgres(data_dir, listen=True, tcp_port=port)
    owner = postgres.start()
    try:
        upgrade(owner)
        passwords = logins.generate()
        logins.provision(owner, passwords)
        name = f"analyst_{uuid.uuid4().hex[:8]}"
        yield {"dir": data_dir, "port": port, "owner": owner, "passwords": passwords, "name": name,
               "password": logins.create_bi_login(owner, name)}
    finally:
        postgres.stop()


def tcp(served, user: str, password: str | None = None):
    return psycopg2.connect(host="127.0.0.1", port=served["port"], dbname="dealtrail", user=user,
                            password=password, connect_timeout=30)


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "the server closed the connection mid-message"
        data += chunk
    return data


def first_reply(port: int, pairs: list[tuple[str, str]]) -> tuple[bytes, bytes]:
    """Send a raw StartupMessage with these (key, value) pairs; the server's first message."""
    body = struct.pack("!I", PROTOCOL_3) + b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in pairs) + b"\0"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(struct.pack("!I", len(body) + 4) + body)
        kind = _exactly(sock, 1)
        (length,) = struct.unpack("!I", _exactly(sock, 4))
        return kind, _exactly(sock, length - 4)


def test_a_repeated_user_key_naming_the_owner_is_refused(served):
    owner = make_url(served["owner"]).username
    kind, payload = first_reply(served["port"], [("user", "nobody"), ("database", "dealtrail"), ("user", owner)])
    assert kind == b"E", (kind, payload)
    assert b"pg_hba.conf rejects" in payload and owner.encode() in payload
    # the same packet naming a BI login last is asked for its SCRAM password, not let in
    kind, payload = first_reply(served["port"], [("user", owner), ("database", "dealtrail"),
                                                 ("user", served["name"])])
    assert kind == b"R" and struct.unpack("!I", payload[:4])[0] == AUTH_SASL


def test_the_owner_and_the_app_role_are_refused_over_tcp_even_with_the_right_password(served):
    with pytest.raises(psycopg2.OperationalError, match="pg_hba.conf rejects"):
        tcp(served, make_url(served["owner"]).username)
    with pytest.raises(psycopg2.OperationalError, match="pg_hba.conf rejects"):
        tcp(served, logins.APP_LOGIN, served["passwords"].app)


def test_a_wrong_password_is_refused(served):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        tcp(served, served["name"], "wrong")


def test_a_bi_login_reads_read_models_only_over_tcp(served):
    conn = tcp(served, served["name"], served["password"])
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM read_models.deal_current")
            assert cur.fetchone() == (0,)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("SELECT count(*) FROM events.event")
    finally:
        conn.close()


def test_bi_login_create_prints_the_tcp_url_the_server_listens_on(served):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEALTRAIL_PG_PORT")}
    name = f"tool_{uuid.uuid4().hex[:8]}"
    made = subprocess.run([sys.executable, "-m", "services.cli", "bi-login", "create", name,
                           "--data-dir", str(served["dir"])], env=env, capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, made.stderr
    url = make_url(made.stdout.strip())
    assert (url.host, url.port, url.username) == ("127.0.0.1", served["port"], name)
    conn = psycopg2.connect(made.stdout.strip(), connect_timeout=30)
    with conn.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone() == (name,)
    conn.close()


def listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    except OSError:
        return False


def test_a_restart_with_another_port_or_none_takes_effect(data_dir):
    first, second = free_port(), free_port()
    for tcp_port in (first, second, None):
        postgres = EmbeddedPostgres(data_dir, listen=True, tcp_port=tcp_port)
        url = postgres.start()
        try:
            with psycopg2.connect(url) as conn, conn.cursor() as cur:
                cur.execute("SELECT current_setting('listen_addresses')")
                assert cur.fetchone() == ("127.0.0.1" if tcp_port else "",)
            assert listens(first) == (tcp_port == first)
            assert listens(second) == (tcp_port == second)
            assert logins.tcp_address(url) == (("127.0.0.1", tcp_port) if tcp_port else None)
        finally:
            postgres.stop()
