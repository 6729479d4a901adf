"""`dealtrail up`: embedded or external services, migrations, then API, relay, a worker, the watcher."""
import logging
import os
import sys
import threading

from infra import logins
from infra.db import make_engine
from infra.embedded import EmbeddedBroker, EmbeddedPostgres
from infra.migrate import upgrade
from infra.settings import Settings
from infra.supervisor import Supervisor
from services.bootstrap import ensure_default_pipeline

log = logging.getLogger("dealtrail.up")


def run_all(settings: Settings, stop: threading.Event) -> int:
    postgres = broker = None
    supervisor = Supervisor()
    try:
        database_url = settings.database_url
        if not database_url:
            postgres = EmbeddedPostgres(settings.data_dir)
            database_url = postgres.start()
            log.info("embedded PostgreSQL running (data in %s)", postgres.data_dir / "pg")
        bootstrap = settings.kafka_bootstrap_servers
        if not bootstrap:
            broker = EmbeddedBroker()
            bootstrap = broker.start()
            log.info("embedded Kafka-protocol broker (Tansu) on %s", bootstrap)
        upgrade(database_url)
        database_url = logins.prepare(settings, database_url, embedded=postgres is not None)  # the app login
        engine = make_engine(database_url, app_role="dealtrail_app", pool_size=1)
        ensure_default_pipeline(engine, settings.currency)
        engine.dispose()
        log.info("migrations applied")
        env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
               "DEALTRAIL_TOPIC": settings.topic, "DEALTRAIL_HOST": settings.host,
               "DEALTRAIL_PORT": str(settings.port), "PYTHONUNBUFFERED": "1"}
        cli = [sys.executable, "-m", "services.cli"]
        supervisor.spawn("api", cli + ["api"], env)
        supervisor.spawn("relay", cli + ["relay"], env)
        supervisor.spawn("worker", cli + ["project"], env)
        supervisor.spawn("watch", cli + ["watch"], env)
        log.info("API on http://%s:%d (docs at /docs); Ctrl-C stops everything",
                 settings.host, settings.port)
        exited = supervisor.wait(stop)
        if exited:
            log.error("%s exited; stopping everything", exited)
            return 1
        log.info("stopping")
        return 0
    finally:
        supervisor.stop()
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()
