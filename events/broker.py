"""Kafka plumbing shared by the relay and consumers. Nothing here is broker-specific."""
import logging
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.partitioner import DefaultPartitioner, Partitioner, murmur2

log = logging.getLogger("dealtrail.broker")


def make_producer(bootstrap: str, partitioner: Partitioner | None = None) -> KafkaProducer:
    """Idempotent, acks=all; never creates topics (only the relay does, knowingly)."""
    return KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
        linger_ms=5, batch_size=256 * 1024, compression_type=None,
        max_block_ms=5000, request_timeout_ms=5000, delivery_timeout_ms=15000,
        reconnect_backoff_max_ms=1000, allow_auto_create_topics=False,
        partitioner=partitioner or DefaultPartitioner(),
    )


class KeyHashCache(Partitioner):
    """kafka-python's default partitioning (murmur2 of the key over the sorted partitions, so a
    deal's events land where they always did), with each key's hash kept: the relay sends every
    deal's events, and the pure-Python hash with the partitioner's per-message sorting was a
    tenth of a relay's CPU. Holds at most `size` keys (cleared when full)."""

    def __init__(self, size: int = 200_000):
        self.size = size
        self._hashes: dict[bytes, int] = {}
        self._sorted: dict[str, tuple[set, list]] = {}  # topic -> its partitions, sorted
        self._default = DefaultPartitioner()

    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):
        partitions = cluster.partitions_for_topic(topic) if serialized_key is not None else None
        if not partitions:
            return self._default.partition(topic, key, serialized_key, value, serialized_value, cluster)
        hashed = self._hashes.get(serialized_key)
        if hashed is None:
            if len(self._hashes) >= self.size:
                self._hashes.clear()
            hashed = self._hashes[serialized_key] = murmur2(serialized_key) & 0x7fffffff
        known, ordered = self._sorted.get(topic, (None, None))
        if known != partitions:
            ordered = sorted(partitions)
            self._sorted[topic] = (partitions, ordered)
        return ordered[hashed % len(ordered)]


def ensure_topic(bootstrap: str, topic: str, partitions: int) -> bool:
    """Create the topic if missing; True when it had to be created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        if topic in admin.list_topics():
            return False
        try:
            admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
        except TopicAlreadyExistsError:
            return False
        log.info("created topic %s with %d partitions", topic, partitions)
        return True
    finally:
        admin.close()


@dataclass(frozen=True)
class TopicInfo:
    topic_id: str | None  # KIP-516 id: a recreated topic gets a new one
    partitions: int


def describe_topic(bootstrap: str, topic: str) -> TopicInfo | None:
    """The topic's identity and partition count, or None if it does not exist. Never creates it."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        [found] = admin.describe_topics([topic])
    finally:
        admin.close()
    if found.get("error_code") or not found.get("partitions"):
        return None
    topic_id = found.get("topic_id")
    return TopicInfo(str(topic_id) if topic_id else None, len(found["partitions"]))


def partition_count(bootstrap: str, topic: str) -> int | None:
    info = describe_topic(bootstrap, topic)
    return info.partitions if info else None
