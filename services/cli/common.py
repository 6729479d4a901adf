"""What every `dealtrail` command shares: the Typer app, the options (database, broker, data dir...),
settings, logging, signals, and how a command finds its database and broker."""
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra import instance, logins
from infra.db import make_engine
from infra.settings import Settings
from services import logs

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Dealtrail: event-sourced deal tracking.")


DatabaseUrl = Annotated[Optional[str], typer.Option(
    "--database-url", envvar="DATABASE_URL",
    help="PostgreSQL URL (default: the embedded PostgreSQL of --data-dir: the one `dealtrail up` "
         "runs there, else started for this command and stopped when it ends).")]


KafkaServers = Annotated[Optional[str], typer.Option(
    "--kafka-bootstrap-servers", envvar="KAFKA_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers (default: the embedded broker of the `dealtrail up` running on "
         "--data-dir; without one, set this).")]


UpDatabaseUrl = Annotated[Optional[str], typer.Option(
    "--database-url", envvar="DATABASE_URL",
    help="PostgreSQL URL (default: an embedded PostgreSQL with its data in <data-dir>/pg).")]


UpKafkaServers = Annotated[Optional[str], typer.Option(
    "--kafka-bootstrap-servers", envvar="KAFKA_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers (default: an embedded in-memory broker on a free port).")]


WatchKafkaServers = Annotated[Optional[str], typer.Option(
    "--kafka-bootstrap-servers", envvar="KAFKA_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers to publish ledger digests to (dealtrail.digests); none: not published.")]


Topic = Annotated[Optional[str], typer.Option("--topic", envvar="DEALTRAIL_TOPIC")]


Host = Annotated[Optional[str], typer.Option("--host", envvar="DEALTRAIL_HOST")]


Port = Annotated[Optional[int], typer.Option("--port", envvar="DEALTRAIL_PORT")]


DataDir = Annotated[Optional[Path], typer.Option(
    "--data-dir", envvar="DEALTRAIL_DATA_DIR",
    help="Where the embedded database lives (default: ./.dealtrail); used when DATABASE_URL is not set.")]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version
        typer.echo(f"dealtrail {version('dealtrail')}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """Dealtrail: event-sourced deal tracking."""


def _settings(**overrides) -> Settings:
    return Settings().with_overrides(**overrides)


def _logging() -> None:
    logs.configure()


def _name_connections(service: str) -> None:
    """libpq reads PGAPPNAME: /readyz tells a live relay or worker by its sessions' name."""
    from services.readiness import application_name
    os.environ["PGAPPNAME"] = application_name(service)


def _stop_on_signals(grace: float | None = None) -> threading.Event:
    """SIGINT/SIGTERM set the event; a service that has not returned `grace` seconds later
    (DEALTRAIL_STOP_SECONDS, default 10: a round stuck on a dead database or broker) exits
    anyway. Under `up` the parent is watched too (services.lifeline)."""
    from services import lifeline
    grace = float(os.environ.get("DEALTRAIL_STOP_SECONDS", "10")) if grace is None else grace
    stop = lifeline.stop_on_signals(grace)
    lifeline.watch_parent()
    return stop


@contextmanager
def _not_configured_exits():
    """What is missing (a database, a broker) is said once, on stderr, with exit code 2."""
    try:
        yield
    except instance.NotConfigured as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@contextmanager
def _database(settings: Settings, *, admin: bool = False, create: bool = False):
    """The URL for the block: services log in as the app role, admin commands (migrate, rebuild,
    replay) as the schema owner; the embedded server of --data-dir if DATABASE_URL is unset."""
    with _not_configured_exits():
        with (instance.owner_url(settings, create=create) if admin
              else instance.service_url(settings)) as url:
            yield url


def _bootstrap(settings: Settings) -> str:
    with _not_configured_exits():
        return instance.bootstrap(settings)


def _engine(url: str, *, pool_size: int, admin: bool = False):
    """Admin engines hold the owner's rights; service connections also run SET ROLE
    dealtrail_app (infra.db), so a login with more rights than the app role still gets none."""
    if admin:
        return make_engine(url, pool_size=pool_size)
    return make_engine(url, pool_size=pool_size, app_role=logins.APP_LOGIN)
