"""The relay's partitioner keeps each key's hash but must place every key exactly where
kafka-python's default partitioner does (a deal's events stay on one partition across relays,
restarts and versions), also after the topic's partitions change."""
from kafka.partitioner import DefaultPartitioner

from events.broker import KeyHashCache


class _Cluster:
    """The three questions a partitioner asks of kafka-python's cluster metadata."""

    def __init__(self, partitions: dict[str, set[int]]):
        self.partitions = partitions

    def topics(self):
        return set(self.partitions)

    def partitions_for_topic(self, topic):
        return set(self.partitions[topic]) if topic in self.partitions else None

    def available_partitions_for_topic(self, topic):
        return self.partitions_for_topic(topic)


def test_places_keys_as_the_default_partitioner_does():
    cluster = _Cluster({"events": set(range(6)), "other": {0, 1, 2}})
    cached, default = KeyHashCache(size=50), DefaultPartitioner()
    keys = [f"deal-{i}".encode() for i in range(200)] * 2  # hits and misses, the cache cleared when full
    for topic in ("events", "other"):
        for key in keys:
            assert cached.partition(topic, key, key, b"v", b"v", cluster) == default.partition(
                topic, key, key, b"v", b"v", cluster)
    cluster.partitions["events"] = set(range(12))  # partitions added: the same rule over the new set
    assert [cached.partition("events", k, k, b"", b"", cluster) for k in keys] == [
        default.partition("events", k, k, b"", b"", cluster) for k in keys]
    assert len(cached._hashes) <= 50
    assert cached.partition("events", None, None, b"v", b"v", cluster) in range(12)  # no key: any partition
