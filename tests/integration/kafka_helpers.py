"""Reading a topic back for assertions (plain kafka-python, no consumer group)."""
import json
import time

from kafka import KafkaConsumer, TopicPartition

from tests.waiting import PATIENCE


def read_topic(bootstrap: str, topic: str, expect: int | None = None, timeout: float = PATIENCE) -> list[dict]:
    """Every message on the topic as dicts (partition, offset, key, headers, envelope);
    with `expect`, waits until at least that many are there."""
    deadline = time.monotonic() + timeout
    while True:
        messages = _read_all(bootstrap, topic)
        if expect is None or len(messages) >= expect or time.monotonic() > deadline:
            return messages
        time.sleep(0.2)


# Reading stops once every partition is past its reported end AND nothing more arrives for a
# while: the embedded Tansu answers ListOffsets(latest) with the newest batch's *base* offset
# + 1, so a reader that stops at end_offsets() misses the rest of the last batch.
QUIET_SECONDS = 0.4


def _read_all(bootstrap: str, topic: str) -> list[dict]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             allow_auto_create_topics=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out, quiet_since = [], None
        while quiet_since is None or time.monotonic() - quiet_since < QUIET_SECONDS:
            polled = consumer.poll(timeout_ms=200)
            if not polled and all(consumer.position(tp) >= ends[tp] for tp in tps):
                quiet_since = quiet_since or time.monotonic()
            elif polled:
                quiet_since = None
            for tp, records in polled.items():
                for r in records:
                    out.append({"partition": tp.partition, "offset": r.offset, "key": r.key.decode(),
                                "headers": {k: v.decode() for k, v in r.headers},
                                "envelope": json.loads(r.value)})
        return out
    finally:
        consumer.close()


def apply_once(messages: list[dict]) -> list[dict]:
    """What a consumer that skips positions it already applied (per partition) ends up applying."""
    applied, last = [], {}
    for m in sorted(messages, key=lambda m: (m["partition"], m["offset"])):
        position = m["envelope"]["position"]
        if position > last.get(m["partition"], 0):
            applied.append(m["envelope"])
            last[m["partition"]] = position
    return applied
