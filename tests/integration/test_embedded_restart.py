"""The embedded services come back after kill -9 at the same address: PostgreSQL on the same
socket with its data, the broker on the same port (empty)."""
import os
import signal
import time

import psycopg2

from infra.embedded import EmbeddedBroker, EmbeddedPostgres, wait_for_port
from tests.waiting import PATIENCE, until


def start_again(unit, timeout=PATIENCE):
    """What the supervisor does: try again until a start succeeds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return unit.start()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_postgres_comes_back_on_the_same_url_with_its_data(tmp_path):
    postgres = EmbeddedPostgres(tmp_path, database="restart")
    url = postgres.start()
    try:
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE kept AS SELECT 42 AS answer")
        assert postgres.exit_status() is None
        os.kill(postgres.pid, signal.SIGKILL)
        until(lambda: postgres.exit_status() is not None, interval=0.05)
        assert start_again(postgres) == url
        assert postgres.exit_status() is None
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT answer FROM kept")
            assert cur.fetchone() == (42,)
    finally:
        postgres.stop()
    assert not (tmp_path / "pg" / "postmaster.pid").exists()


def test_broker_comes_back_on_the_same_port():
    broker = EmbeddedBroker()
    address = broker.start()
    try:
        os.kill(broker.pid, signal.SIGKILL)
        until(lambda: broker.exit_status() == "-9", interval=0.05)
        assert broker.start() == address
        wait_for_port(broker.host, broker.port, PATIENCE)
        assert broker.exit_status() is None
    finally:
        broker.stop()
