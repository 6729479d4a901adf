"""Run the relay and projection workers against a fresh database and compare read models."""
import threading

from sqlalchemy import text

from events.log_reader import settled_horizon
from events.relay import Relay, RelayConfig
from projections import checkpoints, rebuild, sales
from projections.schema import SALES_TABLES
from projections.worker import Worker
from tests.integration.test_relay import wait_for


class Running:
    def __init__(self, target):
        self.stop = threading.Event()
        self.thread = threading.Thread(target=target, args=(self.stop,), daemon=True)
        self.thread.start()

    def halt(self):
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()


def start_relay(engine, bootstrap, topic):
    return Running(Relay(engine, RelayConfig(bootstrap=bootstrap, topic=topic, batch=500,
                                             poll_seconds=0.02)).run)


def start_worker(engine, bootstrap, topic, group):
    worker = Worker(engine, bootstrap, topic, group)
    running = Running(worker.run)
    running.worker = worker
    return running


def caught_up(engine) -> bool:
    horizon = settled_horizon(engine)
    with engine.connect() as conn:
        deal_max = conn.execute(text("SELECT coalesce(max(position), 0) FROM events.event "
                                     "WHERE deal_id NOT LIKE '%:%'")).scalar()
        return checkpoints.applied_through(conn, sales.NAME) >= min(deal_max, horizon) and \
            conn.execute(text("SELECT count(*) FROM events.event e WHERE NOT EXISTS ("
                              "SELECT 1 FROM read_models.projection_stream s "
                              "WHERE s.stream_id = e.deal_id AND s.position >= e.position)")).scalar() == 0


def wait_caught_up(engine, timeout=90):
    wait_for(lambda: caught_up(engine), timeout=timeout)


def tables(engine, schema="read_models") -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.exec_driver_sql(f"SELECT * FROM {schema}.{t}")), key=repr)
                for t in SALES_TABLES}


def rebuilt(engine, schema="check_rebuild") -> dict[str, list[tuple]]:
    rebuild.build(engine, schema, settled_horizon(engine))
    return tables(engine, schema)
