"""`dealtrail up`: embedded or external services, migrations, then API, relay, a worker, the
watcher — all supervised: whatever dies is restarted (see infra/supervisor.py)."""
import logging
import os
import sys
import threading

from kafka.errors import KafkaError

from events import broker as kafka
from infra import broker_address, logins
from infra.db import make_engine
from infra.embedded import EmbeddedBroker, EmbeddedPostgres
from infra.migrate import upgrade
from infra.pg_watchdog import PgWatchdog
from infra.processes import ChildProcess, Output
from infra.settings import Settings
from infra.supervisor import GaveUp, Supervisor
from services.admin_key import ensure_admin_key
from services.bootstrap import ensure_default_pipeline, record_loop_settings
from services.up_summary import announce_when_ready

log = logging.getLogger("dealtrail.up")
SERVICES = {"api": "api", "relay": "relay", "worker": "project", "watch": "watch"}


def run_all(settings: Settings, stop: threading.Event) -> int:
    supervisor = Supervisor()
    output = Output()
    try:
        if settings.pg_port and settings.database_url:
            log.warning("--pg-port opens the embedded PostgreSQL; with DATABASE_URL it does nothing")
        database_url = settings.database_url or _embedded_postgres(supervisor, settings, output)
        broker = None if settings.kafka_bootstrap_servers else _embedded_broker(supervisor, settings)
        bootstrap = broker.bootstrap if broker else settings.kafka_bootstrap_servers
        app_url, secret = _migrate(settings, database_url, embedded=not settings.database_url)
        _start_services(supervisor, settings, app_url, bootstrap, broker, output)
        announce_when_ready(settings, secret, output, stop, supervisor.all_running)
        supervisor.run(stop)
        log.info("stopping")
        return 0
    except GaveUp as exc:
        log.error("%s; stopping everything", exc)
        return 1
    finally:
        supervisor.stop()
        broker_address.forget(settings.data_dir)


def _embedded_postgres(supervisor: Supervisor, settings: Settings, output: Output) -> str:
    """Listening on TCP 127.0.0.1:--pg-port for BI logins, else on its Unix socket only
    (restarted if it runs otherwise, e.g. from an `up` with another --pg-port). pg_ctl
    daemonizes the postmaster: a watchdog child stops it if `up` dies (infra.pg_watchdog)."""
    postgres = EmbeddedPostgres(settings.data_dir, listen=True, tcp_port=settings.pg_port)
    first = not (postgres.data_dir / "pg" / "PG_VERSION").exists()
    log.info("starting the embedded PostgreSQL%s", " (first start: initialising its data directory)" if first else "")
    url = supervisor.start(postgres)
    supervisor.start(PgWatchdog(postgres.data_dir / "pg", output))
    log.info("embedded PostgreSQL running (data in %s)", postgres.data_dir / "pg")
    if settings.pg_port:
        log.info("embedded PostgreSQL on TCP 127.0.0.1:%d for BI logins only (`dealtrail bi-login "
                 "create NAME`)", settings.pg_port)
    return url


def _embedded_broker(supervisor: Supervisor, settings: Settings) -> EmbeddedBroker:
    """Its address goes into the data dir too, for `relay`/`project` run by hand beside `up`."""
    broker = EmbeddedBroker(die_with_parent=True)
    supervisor.start(broker)
    broker_address.record(settings.data_dir, broker.bootstrap)
    log.info("embedded Kafka-protocol broker (Tansu) on %s", broker.bootstrap)
    return broker


def _migrate(settings: Settings, database_url: str, embedded: bool) -> tuple[str, str | None]:
    """Migrations as the owner; from then on the services get the app login's URL only.
    Also the admin key made on a first start (None on later ones)."""
    log.info("applying migrations")
    upgrade(database_url)
    app_url = logins.prepare(settings, database_url, embedded=embedded)
    engine = make_engine(app_url, app_role="dealtrail_app", pool_size=1)
    ensure_default_pipeline(engine, settings.currency)
    record_loop_settings(engine, settings.deviation_threshold)
    log.info("migrations applied")
    secret = ensure_admin_key(engine, settings.data_dir)
    engine.dispose()
    return app_url, secret


def _start_services(supervisor: Supervisor, settings: Settings, database_url: str, bootstrap: str,
                    broker: EmbeddedBroker | None, output: Output) -> None:
    """The relay and the worker need the embedded broker: when it restarts empty they restart
    after it, and the fresh relay recreates the topic and republishes what was not applied.
    The worker starts once the topic exists: a broker may create a topic a consumer asks
    for with its own partition count (Tansu does, whatever the client asks)."""
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
           "DEALTRAIL_TOPIC": settings.topic, "DEALTRAIL_HOST": settings.host,
           "DEALTRAIL_PORT": str(settings.port), "PYTHONUNBUFFERED": "1",
           "DEALTRAIL_DATA_DIR": str(settings.data_dir.resolve()),  # audit.key of api and watch
           "DEALTRAIL_UP_PID": str(os.getpid())}  # each child stops if its parent changes

    def child(name: str, grace: float = 5.0) -> ChildProcess:
        return ChildProcess(name, [sys.executable, "-m", "services.cli", SERVICES[name]], env, output,
                            grace=grace)

    supervisor.start(child("api"))
    # Both are safe to kill (at least once; rows and checkpoints in one transaction), and a
    # relay waiting on a dead broker may not look at SIGTERM for a while: short grace.
    supervisor.start(child("relay", grace=2.0), needs=broker)
    supervisor.start(child("worker", grace=2.0), needs=broker,
                     when=lambda: topic_exists(bootstrap, settings.topic))
    supervisor.start(child("watch"))


def topic_exists(bootstrap: str, topic: str) -> bool:
    """Describing a topic creates none (asking a broker for one by metadata may create it)."""
    try:
        return kafka.describe_topic(bootstrap, topic) is not None
    except KafkaError:
        return False
