"""Kill -9 the relay process mid-backlog, restart it: nothing lost, order kept per deal."""
import os
import signal
import subprocess
import sys

from events.schema import event_adapter
from services.appending import Command, append_events
from tests import factories as f
from tests.integration.kafka_helpers import apply_once, read_topic
from tests.integration.relay_helpers import CTX, TOPIC, assert_per_deal_order, lag, stored_ids, wait_for
from tests.waiting import PATIENCE


def backlog(engine, deals=2000):
    created = event_adapter.validate_python(f.created())
    contact = event_adapter.validate_python(f.contact())
    for start in range(0, deals, 1000):
        ids = [f"k{i}" for i in range(start, start + 1000)]
        commands = [Command(d, created) for d in ids] + [Command(d, contact) for d in ids for _ in range(4)]
        append_events(engine, commands, CTX, currency="USD", batch=True)


def start_relay(engine, bootstrap):
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "DEALTRAIL_RELAY_BATCH": "500"}
    return subprocess.Popen([sys.executable, "-m", "services.cli", "relay"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_relay_killed_mid_batch_loses_and_duplicates_nothing(fresh_engine, broker):
    backlog(fresh_engine)
    total = lag(fresh_engine)["events_behind"]
    relay = start_relay(fresh_engine, broker.bootstrap)
    wait_for(lambda: lag(fresh_engine)["position"] > 0)
    relay.send_signal(signal.SIGKILL)
    relay.wait()
    killed_at = lag(fresh_engine)
    assert 0 < killed_at["events_behind"] < total, "kill should land mid-backlog"
    relay = start_relay(fresh_engine, broker.bootstrap)
    try:
        wait_for(lambda: lag(fresh_engine)["events_behind"] == 0, timeout=2 * PATIENCE)
    finally:
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(PATIENCE) == 0
    messages = read_topic(broker.bootstrap, TOPIC, expect=total)
    applied = apply_once(messages)
    assert sorted(e["event_id"] for e in applied) == sorted(stored_ids(fresh_engine))
    assert_per_deal_order(sorted(applied, key=lambda e: e["position"]))
