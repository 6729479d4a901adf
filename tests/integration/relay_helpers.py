"""Shared by the relay and log tests: appending one event, running a relay in a thread,
waiting for a condition, reading back what was stored."""
import threading
import time
from collections import defaultdict

from sqlalchemy import text

from events import store
from events.relay import Relay, RelayConfig, relay_lag
from events.schema import event_adapter
from services.appending import Command, append_events
from tests import factories as f

CTX = store.Context(actor="test", source="/test")


def append(engine, deal_id, body):
    return append_events(engine, [Command(deal_id, event_adapter.validate_python(body))], CTX,
                         currency="USD")[0].envelope


TOPIC = "dealtrail.events"


class RunningRelay:
    def __init__(self, engine, bootstrap, name="main"):
        self.stop = threading.Event()
        self.relay = Relay(engine, RelayConfig(bootstrap=bootstrap, name=name, batch=500, poll_seconds=0.02))
        self.thread = threading.Thread(target=self.relay.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def halt(self):
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def lag(engine):
    with engine.connect() as conn:
        return relay_lag(conn)


def seed(engine, deals=5, prefix="d"):
    for i in range(deals):
        deal = f"{prefix}{i}"
        append(engine, deal, f.created())
        append(engine, deal, f.moved("lead", "contacted"))
        append(engine, deal, f.contact())


def stored_ids(engine):
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT event_id::text FROM events.event ORDER BY position"))]


def assert_per_deal_order(envelopes):
    versions = defaultdict(list)
    for env in envelopes:
        versions[env["deal_id"]].append(env["stream_version"])
    for deal, vs in versions.items():
        assert vs == list(range(1, len(vs) + 1)), (deal, vs)
