"""Kafka plumbing shared by the relay and consumers. Nothing here is broker-specific."""
import logging
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

log = logging.getLogger("dealtrail.broker")


def make_producer(bootstrap: str) -> KafkaProducer:
    """Idempotent, acks=all; never creates topics (only the relay does, knowingly). For the odd
    message (signed digests) and the bench's raw baseline; the relay publishes through
    events.page_producer."""
    return KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
        linger_ms=5, batch_size=256 * 1024, compression_type=None,
        max_block_ms=5000, request_timeout_ms=5000, delivery_timeout_ms=15000,
        reconnect_backoff_max_ms=1000, allow_auto_create_topics=False,
    )


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
