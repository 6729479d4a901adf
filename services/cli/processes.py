"""The long-running services and how they start: migrate, api, relay, project (the worker), watch,
`up` (all of them, supervised) and `status` (how they are doing)."""
import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra import instance, logins
from services.cli.common import (
    DatabaseUrl,
    DataDir,
    Host,
    KafkaServers,
    Port,
    Topic,
    UpDatabaseUrl,
    UpKafkaServers,
    WatchKafkaServers,
    _bootstrap,
    _database,
    _engine,
    _logging,
    _name_connections,
    _settings,
    _stop_on_signals,
)


def migrate(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Apply database migrations (as the URL's user, who owns the schema); creates the embedded
    database of --data-dir if there is none yet."""
    from infra.migrate import upgrade
    from services.bootstrap import ensure_default_pipeline, record_loop_settings
    _logging()
    settings = _settings(database_url=database_url, data_dir=data_dir)
    with _database(settings, admin=True, create=True) as owner_url:
        upgrade(owner_url)
        app_url = logins.prepare(settings, owner_url, embedded=not settings.database_url)
        engine = _engine(app_url, pool_size=1)
        ensure_default_pipeline(engine, settings.currency)
        record_loop_settings(engine, settings.deviation_threshold)
        engine.dispose()
    typer.echo("migrations applied")


def api(database_url: DatabaseUrl = None, host: Host = None, port: Port = None,
        workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
        data_dir: DataDir = None) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from services import lifeline
    settings = _settings(database_url=database_url, host=host, port=port, data_dir=data_dir)
    _port_free(settings.host, settings.port)
    with _database(settings) as url:
        _name_connections("api")
        os.environ["DATABASE_URL"] = url  # the API process never sees the owner's URL
        lifeline.watch_parent()
        # idle keep-alive connections close after 5 s; a request's headers and body must
        # arrive within DEALTRAIL_READ_TIMEOUT_SECONDS (services.api.plumbing.protocol); a stop waits
        # at most 5 s for requests in flight
        from services.api.plumbing.protocol import TimedHttpProtocol
        uvicorn.run("services.api.main:app", factory=True, host=settings.host, port=settings.port,
                    workers=workers, log_level="warning", access_log=False, http=TimedHttpProtocol,
                    timeout_keep_alive=5, timeout_graceful_shutdown=5)


def relay(database_url: DatabaseUrl = None, kafka_bootstrap_servers: KafkaServers = None,
          topic: Topic = None, data_dir: DataDir = None) -> None:
    """Publish committed events to Kafka in commit order (one active relay; others stand by)."""
    from events.relay import Relay, RelayConfig
    _logging()
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         topic=topic, data_dir=data_dir)
    config = RelayConfig(bootstrap=_bootstrap(settings), topic=settings.topic,
                         partitions=settings.partitions, batch=settings.relay_batch,
                         poll_seconds=settings.relay_poll_seconds)
    with _database(settings) as url:
        _name_connections("relay")
        engine = _engine(url, pool_size=3)
        Relay(engine, config).run(_stop_on_signals())
        engine.dispose()


def project(database_url: DatabaseUrl = None, kafka_bootstrap_servers: KafkaServers = None,
            topic: Topic = None, data_dir: DataDir = None) -> None:
    """Apply events from Kafka to the read models (a consumer-group member; run several)."""
    from projections.read_models import SALES
    from projections.runtime.worker import Worker
    _logging()
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         topic=topic, data_dir=data_dir)
    bootstrap = _bootstrap(settings)
    with _database(settings) as url:
        _name_connections("worker")
        engine = _engine(url, pool_size=2)
        Worker(SALES, engine, bootstrap, settings.topic, snapshot_every=settings.snapshot_every).run(_stop_on_signals())
        engine.dispose()


def watch(database_url: DatabaseUrl = None, kafka_bootstrap_servers: WatchKafkaServers = None,
          data_dir: DataDir = None) -> None:
    """Deviation alerts (review.opened, once per target and period), forecast snapshots, and signed
    ledger digests (published to Kafka `dealtrail.digests` when a broker is configured)."""
    from services import watch as watching
    from services.audit_key import signing_key
    from services.digests import DigestDuty
    _logging()
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         data_dir=data_dir)
    digests = DigestDuty(signing_key(settings), settings.kafka_bootstrap_servers, settings.digest_seconds)
    with _database(settings) as url:
        _name_connections("watch")
        engine = _engine(url, pool_size=2)
        watching.run(engine, _stop_on_signals(), threshold=settings.deviation_threshold,
                     currency=settings.currency, stalled_level=settings.stalled_review_level,
                     every_seconds=min(settings.watch_seconds, settings.digest_seconds), digests=digests)
        engine.dispose()


def up(database_url: UpDatabaseUrl = None, kafka_bootstrap_servers: UpKafkaServers = None,
       topic: Topic = None, host: Host = None, port: Port = None, data_dir: DataDir = None,
       pg_port: Annotated[Optional[int], typer.Option(
           "--pg-port", envvar="DEALTRAIL_PG_PORT", min=1, max=65535,
           help="Also serve the embedded PostgreSQL on TCP 127.0.0.1:PORT for BI tools "
                "(password logins only).")] = None,
       ) -> None:
    """Start everything: database and broker (embedded unless configured), migrations, API, relay."""
    from infra import up_lock
    from services.launcher import run_all
    _logging()
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         topic=topic, host=host, port=port, data_dir=data_dir, pg_port=pg_port)
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    # before anything: a second `up` touches nothing
    lock = up_lock.hold(settings.data_dir, f"http://{shown}:{settings.port}")
    _port_free(settings.host, settings.port)
    from services import lifeline
    code = run_all(settings, lifeline.stop_on_signals(grace=None))
    os.close(lock)
    raise typer.Exit(code)


def _port_free(host: str, port: int) -> None:
    """Refused at once, before anything starts (the API child would fail and be retried)."""
    from infra.embedded import port_in_use
    from services.cli_errors import PortInUse
    if port_in_use(host, port):
        raise PortInUse(host, port)


def status(database_url: DatabaseUrl = None, kafka_bootstrap_servers: KafkaServers = None,
           data_dir: DataDir = None, host: Host = None, port: Port = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Health and lag of `up`, the API, database, broker, relay and worker; exit 1 if one is DOWN."""
    from infra import up_lock
    from services import status as report
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         data_dir=data_dir, host=host, port=port)
    try:
        bootstrap = instance.bootstrap(settings)
    except instance.NotConfigured:
        bootstrap = None  # no broker known: shown as not configured
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    running = up_lock.holder(settings.data_dir)
    api_url = running[1] if running and running[1] else f"http://{host}:{settings.port}"
    up_check = None if settings.database_url else _up_check(settings.data_dir, running)
    with _database(settings) as url:
        engine = _engine(url, pool_size=1)
        result = report.status(engine, bootstrap, api_url=api_url, up=up_check)
        engine.dispose()
    typer.echo(json.dumps(result, indent=2) if as_json else "\n".join(report.lines(result)))
    raise typer.Exit(0 if result["ok"] else 1)


def _up_check(data_dir: Path, running: tuple[int, str] | None):
    """With the embedded database, whether a `dealtrail up` runs on the data dir (else this
    command started its PostgreSQL just to look)."""
    from services.readiness import Check
    if running is None:
        return Check(False, f"not running on {data_dir}")
    return Check(True, f"pid {running[0]}", (("pid", running[0]),))
