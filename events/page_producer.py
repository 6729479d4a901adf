"""The relay's producer: pages of messages handed to librdkafka (confluent-kafka), each page's
acknowledgements awaited as one.

kafka-python's producer encodes every record in Python: at ~50 us of CPU a message (its own
raw rate here, ~20k/s) it was most of the relay's CPU, and under `dealtrail up` the relay's
share of a machine the API, PostgreSQL and the worker also need. librdkafka does the same work
in C (~7 us a message with its threads). Same guarantees as before: idempotent, acks=all
(ordered per partition, no duplicates within a session), and the same partitions: keys are
placed by the Java client's murmur2 (`murmur2_random`), which kafka-python's default
partitioner also uses, so a deal's events stay in the partition they always went to.

Errors surface as kafka-python's KafkaError, which is what the relay's retry loop handles."""
import logging
import time
from dataclasses import dataclass, field

from confluent_kafka import KafkaException, Producer
from kafka.errors import KafkaError

log = logging.getLogger("dealtrail.kafka")
Message = tuple[bytes, bytes, list[tuple[str, bytes]]]  # key, value, headers
POLL_EVERY = 1000  # messages produced between serving delivery reports


@dataclass
class Page:
    """One page's messages in flight: each one's (partition, offset) once the broker has it."""
    acks: list[tuple[int, int] | None]
    pending: int
    errors: list[str] = field(default_factory=list)

    def delivered(self, index: int):
        def report(err, msg) -> None:
            if err is not None:
                self.errors.append(str(err))
            else:
                self.acks[index] = (msg.partition(), msg.offset())
            self.pending -= 1
        return report


class PageProducer:
    def __init__(self, bootstrap: str, delivery_timeout_ms: int = 15_000):
        self._producer = Producer({
            "bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
            "partitioner": "murmur2_random", "linger.ms": 5, "batch.size": 1_000_000,
            "compression.type": "none", "message.timeout.ms": delivery_timeout_ms, "request.timeout.ms": 5_000,
            "reconnect.backoff.max.ms": 1_000, "allow.auto.create.topics": False,
            "queue.buffering.max.messages": 200_000, "queue.buffering.max.kbytes": 262_144,
            "logger": log, "log_level": 4,  # librdkafka's warnings and errors, through logging
        })

    def send(self, topic: str, messages: list[Message]) -> Page:
        page = Page([None] * len(messages), len(messages))
        produce = self._producer.produce
        try:
            for index, (key, value, headers) in enumerate(messages):
                produce(topic, value=value, key=key, headers=headers, on_delivery=page.delivered(index))
                if index % POLL_EVERY == POLL_EVERY - 1:
                    self._producer.poll(0)
        except (KafkaException, BufferError) as exc:
            raise KafkaError(f"producing failed: {exc}") from exc
        return page

    def acknowledged(self, page: Page, timeout: float = 30.0) -> list[tuple[int, int]]:
        """Each message's (partition, offset), once all are acknowledged; KafkaError if one was
        refused or `timeout` passed."""
        deadline = time.monotonic() + timeout
        while page.pending > 0 and not page.errors:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KafkaError(f"{page.pending} messages not acknowledged in {timeout:.0f}s")
            self._producer.poll(min(left, 0.1))
        if page.errors:
            raise KafkaError(f"not acknowledged: {page.errors[0]}")
        return page.acks

    def close(self, timeout: float = 1.0) -> None:
        """Drop what is not acknowledged yet (the relay publishes it again from its checkpoint)."""
        try:
            self._producer.purge()
        except KafkaException:
            pass
        self._producer.flush(timeout)
