"""Issue 7: one poison event must not wedge the projections; a recreated or repartitioned topic
must not make a worker skip anything; only the relay creates the topic."""
import logging
import time
import uuid

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from sqlalchemy import text

from events import broker as kafka
from events import store
from infra.db import make_engine
from projections import sales_projection as sales
from projections.read_models import SALES
from projections.runtime import checkpoints, rebuild
from projections.runtime.worker import apply_records
from tests.integration.projection_helpers import CTX, api
from tests.integration.relay_helpers import wait_for
from tests.integration.worker_helpers import rebuilt, start_relay, start_worker, tables, wait_caught_up, workload
from tests.owners import owner_url
from tests.waiting import until


def append_unchecked(engine, stream_id: str, kind: str, data: dict) -> str:
    """An event as an older, laxer release may have written it (no validation)."""
    event_id = str(uuid.uuid4())
    with engine.begin() as conn:
        locked = store.lock_heads(conn, {stream_id}, 1)
        store.append(conn, [store.NewEvent(event_id=event_id, type=kind, deal_id=stream_id,
                                           occurred_at=None, data=data, request_digest="-")],
                     locked, CTX, {stream_id: {}})
    return event_id


def poison(engine) -> dict[str, str]:
    """A target and a review of period 0000 (year 0), and a deal whose amount no numeric holds."""
    target = append_unchecked(engine, "target:rep.r1.0000.revenue", "target.set", {
        "scope": "rep", "scope_id": "r1", "period": "0000", "metric": "revenue", "value": "10"})
    review = append_unchecked(engine, "review:bad", "review.opened", {
        "trigger": "manual", "scope": "rep", "scope_id": "r1", "period": "0000", "metric": "revenue",
        "expected": "1", "actual": "0"})
    append_unchecked(engine, "huge", "deal.created", {
        "title": "huge", "customer": {"id": "c", "name": "c"}, "owner_id": "r1", "pipeline": "default",
        "stage": "lead", "expected_amount": "1e400000", "currency": "USD"})
    return {"target": target, "review": review}


def without_recorded_at(rows: dict) -> dict:
    rows = dict(rows)
    rows["projection_errors"] = [r[:6] for r in rows["projection_errors"]]
    return rows


def test_poison_events_are_recorded_and_every_other_stream_keeps_projecting(fresh_engine, broker):
    topic, group = f"t-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    workload(fresh_engine, deals=30, prefix="a")
    bad = poison(fresh_engine)
    workload(fresh_engine, deals=30, prefix="b")
    relay = start_relay(fresh_engine, broker.bootstrap, topic)
    worker = start_worker(fresh_engine, broker.bootstrap, topic, group)
    try:
        wait_caught_up(fresh_engine)
        workload(fresh_engine, deals=10, prefix="c")  # still alive after the poison
        wait_caught_up(fresh_engine)
        assert worker.thread.is_alive()
    finally:
        worker.halt()
        relay.halt()
    with fresh_engine.connect() as conn:
        errors = {r["stream_id"]: r for r in checkpoints.errors(conn, sales.NAME)}
        lag = checkpoints.lag(conn, sales.NAME)
        deals = conn.execute(text("SELECT count(*) FROM read_models.deal_current")).scalar()
        reviews = conn.execute(text("SELECT count(*) FROM read_models.reviews")).scalar()
    assert errors["target:rep.r1.0000.revenue"]["event_id"] == bad["target"]
    assert errors["review:bad"]["event_id"] == bad["review"]
    assert "huge" in errors and errors["huge"]["event_id"] is None  # the database refused its rows
    assert lag["events_behind"] == 0 and lag["errors"] == 3
    assert deals == 70 and reviews == 0
    assert without_recorded_at(tables(fresh_engine)) == without_recorded_at(rebuilt(fresh_engine))
    assert api(fresh_engine).get("/v1/reviews").status_code == 200


def test_rebuild_reports_events_it_cannot_apply(fresh_engine):
    workload(fresh_engine, deals=12)
    bad = append_unchecked(fresh_engine, "target:rep.r1.0000.revenue", "target.set", {
        "scope": "rep", "scope_id": "r1", "period": "0000", "metric": "revenue", "value": "10"})
    owner = make_engine(owner_url(fresh_engine), pool_size=2)
    rebuild.rebuild(SALES, owner)  # admin work: the schema owner's connection
    owner.dispose()
    with fresh_engine.connect() as conn:
        [error] = checkpoints.errors(conn, sales.NAME)
        deals = conn.execute(text("SELECT count(*) FROM read_models.deal_current")).scalar()
    assert error["event_id"] == bad and "year 0" in error["error"] and deals == 12


def _consume_partition(bootstrap: str, topic: str, partition: int, count: int) -> dict:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    tp = TopicPartition(topic, partition)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    records = []
    while len(records) < count:
        for batch in consumer.poll(timeout_ms=500).values():
            records += batch
    consumer.close()
    return {tp: records}


@pytest.mark.parametrize("partitions", [4, 8])
def test_repartitioned_topic_after_broker_loss_skips_nothing(fresh_engine, broker, partitions):
    """The worker applied one partition of a 6-partition topic, the broker lost its log, and
    the topic came back with another partition count, created by someone else than the relay
    (as a broker auto-creating it for a consumer does): every event is applied once."""
    topic, group = f"t-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    workload(fresh_engine, deals=120)
    relay = start_relay(fresh_engine, broker.bootstrap, topic)
    wait_for(lambda: _relayed_all(fresh_engine))
    relay.halt()
    admin_consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
    end = admin_consumer.end_offsets([TopicPartition(topic, 0)])[TopicPartition(topic, 0)]
    admin_consumer.close()
    apply_records(SALES, fresh_engine, _consume_partition(broker.bootstrap, topic, 0, end), partition_count=6)
    with fresh_engine.connect() as conn:
        behind = checkpoints.lag(conn, sales.NAME)["events_behind"]
        applied = conn.execute(text("SELECT count(*) FROM events.event e JOIN read_models.projection_stream s "
                                    "ON s.stream_id = e.deal_id")).scalar()
        total = conn.execute(text("SELECT count(*) FROM events.event")).scalar()
    assert 0 < applied < total and behind == total - applied
    broker.stop()
    workload(fresh_engine, deals=40, prefix="late")
    broker.start()  # empty
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    admin.close()
    worker = start_worker(fresh_engine, broker.bootstrap, topic, group)
    relay = start_relay(fresh_engine, broker.bootstrap, topic)
    try:
        wait_caught_up(fresh_engine, timeout=120)
    finally:
        worker.halt()
        relay.halt()
    assert tables(fresh_engine) == rebuilt(fresh_engine)


def _relayed_all(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT (SELECT max(position) FROM events.relay_checkpoint) >= "
                                 "(SELECT max(position) FROM events.event)")).scalar()


def test_only_the_relay_creates_the_topic(fresh_engine, broker, caplog):
    topic, group = f"t-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    workload(fresh_engine, deals=20)
    caplog.set_level(logging.INFO, logger="dealtrail.worker")
    worker = start_worker(fresh_engine, broker.bootstrap, topic, group)
    try:
        until(lambda: any("waiting for the relay to create topic" in r.getMessage() for r in caplog.records),
              message="the worker found no topic")  # it asked the broker once
        time.sleep(2.5)  # on purpose: it asks again every second; none of its asks may create the topic
        assert worker.thread.is_alive()
        assert kafka.describe_topic(broker.bootstrap, topic) is None, "a worker must not create the topic"
        relay = start_relay(fresh_engine, broker.bootstrap, topic)
        try:
            wait_caught_up(fresh_engine)
        finally:
            relay.halt()
    finally:
        worker.halt()
    assert kafka.describe_topic(broker.bootstrap, topic).partitions == 6
