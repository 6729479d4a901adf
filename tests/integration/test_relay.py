"""The relay against a real broker: order, checkpoints, outages, an empty broker, standbys."""
import time
from collections import defaultdict

from sqlalchemy import text

from tests import factories as f
from tests.integration.kafka_helpers import apply_once, read_topic
from tests.integration.relay_helpers import TOPIC, RunningRelay, assert_per_deal_order, lag, seed, stored_ids, wait_for


def test_publishes_every_event_once_keyed_by_deal(fresh_engine, broker):
    seed(fresh_engine)
    running = RunningRelay(fresh_engine, broker.bootstrap)
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    running.halt()
    messages = read_topic(broker.bootstrap, TOPIC, expect=15)
    assert sorted(m["envelope"]["event_id"] for m in messages) == sorted(stored_ids(fresh_engine))
    partitions = {m["partition"] for m in messages}
    assert len(partitions) > 1
    for m in messages:
        env = m["envelope"]
        assert m["key"] == env["deal_id"]
        assert m["headers"] == {"type": env["type"], "position": str(env["position"]), "deal_id": env["deal_id"]}
    by_deal_partition = defaultdict(set)
    for m in messages:
        by_deal_partition[m["key"]].add(m["partition"])
    assert all(len(p) == 1 for p in by_deal_partition.values())
    ordered = [m["envelope"] for m in sorted(messages, key=lambda m: (m["partition"], m["offset"]))]
    assert_per_deal_order(ordered)


def test_published_envelope_verifies(fresh_engine, broker):
    seed(fresh_engine, deals=1)
    running = RunningRelay(fresh_engine, broker.bootstrap)
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    running.halt()
    for m in read_topic(broker.bootstrap, TOPIC, expect=3):
        env = dict(m["envelope"])
        from events.canonical import chain_hash
        claimed = env.pop("hash")
        assert chain_hash(env["prev_hash"], env) == claimed


def test_restart_resumes_from_checkpoint_without_duplicates(fresh_engine, broker):
    seed(fresh_engine, deals=3, prefix="a")
    running = RunningRelay(fresh_engine, broker.bootstrap)
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    running.halt()
    seed(fresh_engine, deals=3, prefix="b")
    assert lag(fresh_engine)["events_behind"] == 9
    running = RunningRelay(fresh_engine, broker.bootstrap)
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    running.halt()
    ids = [m["envelope"]["event_id"] for m in read_topic(broker.bootstrap, TOPIC, expect=18)]
    assert sorted(ids) == sorted(stored_ids(fresh_engine)) and len(ids) == len(set(ids))


def test_appends_continue_while_broker_is_down_and_relay_catches_up(fresh_engine, broker):
    seed(fresh_engine, deals=2, prefix="a")
    running = RunningRelay(fresh_engine, broker.bootstrap)
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    broker.kill()
    seed(fresh_engine, deals=2, prefix="b")  # Postgres is the truth: appends still succeed
    time.sleep(1.0)  # on purpose: time passes with the broker down, so seconds_behind > 0.5 below
    behind = lag(fresh_engine)
    assert behind["events_behind"] == 6 and behind["seconds_behind"] > 0.5
    broker.start()  # same port; the embedded broker comes back with an empty log
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    running.halt()
    messages = read_topic(broker.bootstrap, TOPIC, expect=12)
    applied = apply_once(messages)
    assert sorted(e["event_id"] for e in applied) == sorted(stored_ids(fresh_engine))
    assert_per_deal_order(sorted(applied, key=lambda e: e["position"]))


def test_empty_broker_gets_what_consumers_have_not_applied(fresh_engine, broker):
    seed(fresh_engine, deals=4)
    running = RunningRelay(fresh_engine, broker.bootstrap)
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    running.halt()
    with fresh_engine.begin() as conn:
        applied_upto = conn.execute(text("SELECT position FROM events.event ORDER BY position "
                                         "OFFSET 5 LIMIT 1")).scalar()
        conn.execute(text("INSERT INTO events.consumer_checkpoint (consumer, partition, position) "
                          "VALUES ('projections', 0, :p), ('projections', 1, :q)"),
                     {"p": applied_upto, "q": applied_upto + 3})
    broker.stop()
    broker.start()  # empty
    running = RunningRelay(fresh_engine, broker.bootstrap)
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    expected = [i for i in stored_ids(fresh_engine)][6:]
    messages = read_topic(broker.bootstrap, TOPIC, expect=len(expected))
    running.halt()
    assert sorted(m["envelope"]["event_id"] for m in messages) == sorted(expected)


def test_only_one_relay_is_active(fresh_engine, broker):
    seed(fresh_engine, deals=3)
    first = RunningRelay(fresh_engine, broker.bootstrap)
    second = RunningRelay(fresh_engine, broker.bootstrap)
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    seed(fresh_engine, deals=3, prefix="x")
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    first.halt()
    seed(fresh_engine, deals=2, prefix="y")  # the standby takes over
    wait_for(lambda: lag(fresh_engine)["events_behind"] == 0)
    second.halt()
    ids = [m["envelope"]["event_id"] for m in read_topic(broker.bootstrap, TOPIC, expect=24)]
    assert sorted(ids) == sorted(stored_ids(fresh_engine)) and len(ids) == len(set(ids))


def test_published_bytes_are_the_stored_envelopes_canonical_json(fresh_engine):
    """The relay formats timestamps and ids in SQL; its messages must be Envelope.to_json()
    byte for byte (a back-dated, non-ASCII, decimal-carrying, correlated history included)."""
    from datetime import datetime, timezone

    from events import store
    from events.log_reader import read_committed
    from events.relay import PUBLISHED
    from events.schema import event_adapter
    from services.appending import Command, append_events
    from services.demo import generate

    items = list(generate(12, 5, datetime(2026, 6, 1, tzinfo=timezone.utc)))
    commands = [Command(item.pop("deal_id"), event_adapter.validate_python(item)) for item in items]
    floats = {"type": "deal.updated", "data": {"fields": {"ratio": 1e-05, "tiny": 2.5e-07, "half": 0.5,
                                                          "n": 3}}}  # the stdlib's spellings, not orjson's
    looks_like_one = {"type": "deal.updated", "data": {"title": "2.5e3 seats, v1.2"}}
    commands += [Command("floats-1", event_adapter.validate_python(body))
                 for body in (f.created(), floats, looks_like_one)]
    ctx = store.Context(actor="Zoë Ünal", source="/v1/events/batch", correlation_id="corr-ü-1")
    append_events(fresh_engine, commands, ctx, currency="USD", batch=True)
    envelopes = read_committed(fresh_engine, 0, 10_000).envelopes
    published = read_committed(fresh_engine, 0, 10_000, shape=PUBLISHED).envelopes
    assert len(published) == len(envelopes) > len(items)  # and the default pipeline's definition
    for env, out in zip(envelopes, published):
        assert (out.position, out.deal_id, out.type) == (env.position, env.deal_id, env.type)
        assert out.value == env.to_json().encode()


def test_checkpoint_never_passes_an_unacknowledged_page(fresh_engine, broker):
    """The relay sends page N+1 while it awaits page N's acknowledgements: a failed one in a
    page leaves the checkpoint before that page (the page after it was sent already), and after
    a reconnect everything is published and the checkpoint reaches the head."""
    import pytest
    from kafka.errors import KafkaError

    from events.relay import Relay, RelayConfig

    seed(fresh_engine, deals=10)
    positions = _positions(fresh_engine)
    relay = Relay(fresh_engine, RelayConfig(bootstrap=broker.bootstrap, batch=10))
    relay._load_checkpoint()
    relay._connect()
    real_send, sent = relay._producer.send, []

    def send(topic, messages):
        sent.extend(int(dict(headers)["position"]) for _, _, headers in messages)
        page = real_send(topic, messages)
        if len(sent) >= 15 > len(sent) - len(messages):  # the 15th message: the broker never acknowledges it
            page.errors.append("injected: not acknowledged")
        return page
    relay._producer.send = send
    assert relay.step()
    assert relay.position == positions[9] and sent == positions[:20]  # page 2 sent ahead
    with pytest.raises(KafkaError):
        relay.step()  # page 2 had a message the broker never acknowledged
    assert relay.position == positions[9] and sent == positions[:30]
    relay._close_producer()
    relay._connect()
    while relay.step():
        pass
    assert relay.position == positions[-1]
    ids = {m["envelope"]["event_id"] for m in read_topic(broker.bootstrap, TOPIC, expect=len(positions) + 10)}
    assert ids == set(stored_ids(fresh_engine))


def test_a_stopping_relay_records_the_page_it_sent_ahead(fresh_engine, broker):
    from events.relay import Relay, RelayConfig

    seed(fresh_engine, deals=10)
    positions = _positions(fresh_engine)
    relay = Relay(fresh_engine, RelayConfig(bootstrap=broker.bootstrap, batch=10))
    relay._load_checkpoint()
    relay._connect()
    assert relay.step() and relay.position == positions[9]  # page 2 sent, not yet recorded
    relay._drain()
    assert relay.position == positions[19] and relay._in_flight is None
    relay._close_producer()
    assert lag(fresh_engine)["events_behind"] == len(positions) - 20


def _positions(engine):
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT position FROM events.event ORDER BY position"))]
