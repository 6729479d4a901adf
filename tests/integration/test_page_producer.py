"""The relay's producer (librdkafka): keys land on the partitions kafka-python's default
partitioner chose for them (a deal's events stay where they always went, across versions and
relays), a page's acknowledgements are its messages' places in order, and a page the broker
never acknowledges raises KafkaError."""
import json
import uuid

import pytest
from kafka.errors import KafkaError
from kafka.partitioner import DefaultPartitioner

from events.broker import ensure_topic
from events.page_producer import PageProducer
from infra.embedded import free_port
from tests.integration.kafka_helpers import read_topic


class _Cluster:
    """The questions kafka-python's partitioner asks of its cluster metadata."""

    def __init__(self, topic: str, partitions: int):
        self.topic, self.partitions = topic, set(range(partitions))

    def topics(self):
        return {self.topic}

    def partitions_for_topic(self, topic):
        return self.partitions if topic == self.topic else None

    available_partitions_for_topic = partitions_for_topic


def _message(key: str, n: int) -> tuple[bytes, bytes, list]:
    value = json.dumps({"event_id": str(uuid.uuid4()), "position": n, "deal_id": key}).encode()
    return key.encode(), value, [("type", b"deal.created"), ("position", str(n).encode()), ("deal_id", key.encode())]


@pytest.mark.parametrize("partitions", [6, 5])
def test_keys_land_where_kafka_pythons_partitioner_put_them(broker_bootstrap, partitions):
    topic = f"test.pages.{uuid.uuid4().hex[:8]}"
    ensure_topic(broker_bootstrap, topic, partitions)
    messages = [_message(f"deal-{i % 150}-{'x' * (i % 7)}", i + 1) for i in range(400)]
    producer = PageProducer(broker_bootstrap)
    try:
        acks = producer.acknowledged(producer.send(topic, messages))
    finally:
        producer.close()
    cluster, default = _Cluster(topic, partitions), DefaultPartitioner()
    assert [p for p, _ in acks] == [default.partition(topic, k, k, v, v, cluster) for k, v, _ in messages]
    for partition in range(partitions):  # each partition's offsets count up from 0, in send order
        offsets = [o for p, o in acks if p == partition]
        assert offsets == list(range(len(offsets)))
    read = read_topic(broker_bootstrap, topic, expect=len(messages))
    assert sorted((m["partition"], m["offset"], m["headers"]["position"]) for m in read) == sorted(
        (p, o, str(n + 1)) for n, (p, o) in enumerate(acks))


def test_a_page_nobody_acknowledges_raises_kafka_error():
    producer = PageProducer(f"127.0.0.1:{free_port()}", delivery_timeout_ms=1000)  # no broker there
    try:
        page = producer.send("test.nowhere", [_message("deal-1", 1), _message("deal-2", 2)])
        with pytest.raises(KafkaError):
            producer.acknowledged(page, timeout=10)
    finally:
        producer.close()
