"""Shared by the relay and log tests: appending one event, running a relay in a thread,
waiting for a condition, reading back what was stored."""
import threading
import uuid
from collections import defaultdict

from sqlalchemy import text

from events import store
from events.relay import Relay, RelayConfig, relay_lag
from events.schema import event_adapter
from services.appending import Command, append_events
from tests import factories as f
from tests.waiting import PATIENCE, until

CTX = store.Context(actor="test", source="/test")


def append(engine, deal_id, body):
    return append_events(engine, [Command(deal_id, event_adapter.validate_python(body))], CTX,
                         currency="USD")[0].envelope


def contacts_in_open_transaction(conn, deal_ids: list[str]) -> list:
    """Append one contact to each of `deal_ids` inside `conn`'s transaction (heads created if
    new); the caller commits."""
    locked = store.lock_heads(conn, set(deal_ids), len(deal_ids))
    new = [store.NewEvent(event_id=str(uuid.uuid4()), type="deal.contact_logged", deal_id=d,
                          occurred_at=locked.now, data={"channel": "call"}, request_digest="x")
           for d in deal_ids]
    return store.append(conn, new, locked, CTX, {d: locked.heads[d].state for d in deal_ids})


TOPIC = "dealtrail.events"


class RunningRelay:
    def __init__(self, engine, bootstrap, name="main"):
        self.stop = threading.Event()
        self.relay = Relay(engine, RelayConfig(bootstrap=bootstrap, name=name, batch=500, poll_seconds=0.02))
        self.thread = threading.Thread(target=self.relay.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def halt(self):
        self.stop.set()
        self.thread.join(PATIENCE)
        assert not self.thread.is_alive()


def wait_for(predicate, timeout=PATIENCE):
    until(predicate, timeout, interval=0.05)


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
