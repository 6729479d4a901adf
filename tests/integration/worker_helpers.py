"""Run the relay and projection workers against a fresh database and compare read models."""
import threading

from sqlalchemy import text

from events.log_reader import settled_horizon
from events.relay import Relay, RelayConfig
from events.schema import event_adapter
from projections import sales_projection as sales
from projections.read_models import SALES
from projections.runtime import checkpoints, rebuild
from projections.runtime.worker import Worker
from projections.tables.groups import AGGREGATE_VIEWS, POINT_TABLE, SALES_TABLES
from services.appending import Command, append_events
from tests.integration.projection_helpers import CTX
from tests.integration.relay_helpers import wait_for
from tests.waiting import PATIENCE


class Running:
    def __init__(self, target):
        self.stop = threading.Event()
        self.thread = threading.Thread(target=target, args=(self.stop,), daemon=True)
        self.thread.start()

    def halt(self):
        self.stop.set()
        self.thread.join(PATIENCE)
        assert not self.thread.is_alive()


def start_relay(engine, bootstrap, topic):
    return Running(Relay(engine, RelayConfig(bootstrap=bootstrap, topic=topic, batch=500,
                                             poll_seconds=0.02)).run)


def start_worker(engine, bootstrap, topic, group):
    worker = Worker(SALES, engine, bootstrap, topic, group)
    running = Running(worker.run)
    running.worker = worker
    return running


def caught_up(engine) -> bool:
    horizon = settled_horizon(engine)
    with engine.connect() as conn:
        deal_max = conn.execute(text("SELECT coalesce(max(position), 0) FROM events.event "
                                     "WHERE deal_id NOT LIKE '%:%'")).scalar()
        return checkpoints.applied_through(conn, sales.NAME) >= min(deal_max, horizon) and \
            checkpoints.first_unapplied(conn, sales.NAME, 0) is None


def wait_caught_up(engine, timeout=90):
    wait_for(lambda: caught_up(engine), timeout=timeout)


def tables(engine, schema="read_models") -> dict[str, list[tuple]]:
    """Every read-model row (not the resume points: a rebuild leaves them out)."""
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.exec_driver_sql(f"SELECT * FROM {schema}.{t}")), key=repr)
                for t in (*SALES_TABLES, *AGGREGATE_VIEWS) if t != POINT_TABLE}


def rebuilt(engine, schema="check_rebuild") -> dict[str, list[tuple]]:
    rebuild.build(SALES, engine, schema, settled_horizon(engine))
    return tables(engine, schema)


def workload(engine, deals=300, prefix="w"):
    """Deals moving through stages with contacts, quotes, wins and losses (batches)."""
    def cmd(deal, body):
        return Command(deal, event_adapter.validate_python(body))
    ids = [f"{prefix}{i}" for i in range(deals)]
    steps = [
        [cmd(d, {"type": "deal.created", "data": {"title": d, "customer": {"id": d, "name": d},
                                                   "owner_id": f"r{i % 7}", "team_id": f"t{i % 3}",
                                                   "expected_amount": "100", "currency": "USD"}})
         for i, d in enumerate(ids)],
        [cmd(d, {"type": "deal.contact_logged", "data": {"channel": "call"}}) for d in ids],
        [cmd(d, {"type": "deal.stage_moved", "data": {"from_stage": "lead", "to_stage": "contacted"}})
         for d in ids[: deals * 2 // 3]],
        [cmd(d, {"type": "deal.quote_issued", "data": {"quote_id": "q", "amount": "150", "currency": "USD"}})
         for d in ids[: deals // 2]],
        [cmd(d, {"type": "deal.signed", "data": {"amount": "140", "currency": "USD"}}) for d in ids[: deals // 4]],
        [cmd(d, {"type": "deal.lost", "data": {"reason": "price"}}) for d in ids[deals // 4: deals // 3]],
    ]
    for step in steps:
        append_events(engine, step, CTX, currency="USD", batch=True)
