"""`dealtrail project`: a Kafka consumer-group member applying events to a projection (the
caller's: runtime.projection.Projection; this module knows none).

Each poll's events and the checkpoints commit in one PostgreSQL transaction; an event at or
below its stream's applied position is skipped, so a redelivered event takes effect once,
whatever partition (or topic layout) it comes from. Kafka offsets are committed after
PostgreSQL, as a hint only: PostgreSQL holds the truth.

The consumer is librdkafka's (confluent-kafka): kafka-python decoded every record in Python,
~18 us an event and a fifth of a worker's time, for the two things applying needs of a message
(its key and its position header); librdkafka hands them over for ~3 us."""
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaException
from kafka.errors import KafkaError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from events import broker
from infra import coordination
from projections.runtime import checkpoints
from projections.runtime.projection import Projection
from projections.runtime.quarantine import describe, refused

log = logging.getLogger("dealtrail.worker")
GROUP = "dealtrail-projections"


MAX_POLL_RECORDS = 2000
PARTITIONS_CHECK_SECONDS = 5.0


def make_consumer(bootstrap: str, topic: str, group: str) -> Consumer:
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "allow.auto.create.topics": False,
        "max.poll.interval.ms": 60_000, "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000,
        "topic.metadata.refresh.interval.ms": 5000, "fetch.wait.max.ms": 100,
        "reconnect.backoff.max.ms": 1000, "logger": log, "log_level": 4,
        "queued.max.messages.kbytes": 16_384,  # prefetched messages held (default 64 MB: ~+110 MB RSS)
    })
    consumer.subscribe([topic])
    return consumer


def position_of(headers, offset: int) -> int:
    for key, value in headers or ():
        if key == "position":
            return int(value)
    raise ValueError(f"message at offset {offset} has no position header")


@dataclass
class Poll:
    """One poll's records reduced to what applying needs: the newest position per stream and
    per partition."""
    streams: dict[str, int] = field(default_factory=dict)
    partitions: dict[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Mapping) -> "Poll":
        """From kafka-python's {TopicPartition: [ConsumerRecord]}."""
        poll = cls()
        for tp, batch in records.items():
            for record in batch:
                poll.add(record.key, position_of(record.headers, record.offset), tp.partition)
        return poll

    @classmethod
    def of_messages(cls, messages: list) -> "Poll":
        """From librdkafka's messages (a message that carries an error raises KafkaError)."""
        poll = cls()
        for message in messages:
            if message.error() is not None:
                raise KafkaError(f"consuming failed: {message.error()}")
            poll.add(message.key(), position_of(message.headers(), message.offset()), message.partition())
        return poll

    def add(self, key: bytes, position: int, partition: int) -> None:
        stream_id = key.decode()
        self.streams[stream_id] = max(self.streams.get(stream_id, 0), position)
        self.partitions[partition] = max(self.partitions.get(partition, 0), position)


def apply_records(projection: Projection, engine: Engine, records: Mapping, schema: str = "read_models",
                  partition_count: int | None = None) -> int:
    """apply_poll of kafka-python's records ({TopicPartition: [records]})."""
    return apply_poll(projection, engine, Poll.of(records), schema, partition_count)


def apply_poll(projection: Projection, engine: Engine, poll: Poll, schema: str = "read_models",
               partition_count: int | None = None) -> int:
    """Apply one poll's events in one transaction; returns how many streams had new events. If
    the database refuses the batch, each stream is applied on its own and the ones it still
    refuses are recorded in projection_errors (never retried forever: one bad stream must not
    stop the others)."""
    try:
        return _apply(projection, engine, poll, schema, partition_count, isolate=False)
    except Exception as exc:
        if not refused(exc):
            raise  # e.g. the database is unavailable: the whole poll is retried later
        log.warning("batch refused (%s); applying stream by stream", describe(exc))
        return _apply(projection, engine, poll, schema, partition_count, isolate=True)


def _apply(projection: Projection, engine: Engine, poll: Poll, schema: str, partition_count: int | None,
           isolate: bool) -> int:
    with engine.begin() as conn:
        coordination.hold(conn, projection.lock)
        applied = checkpoints.applied_streams(conn, projection.name, list(poll.streams))
        upto = {s: p for s, p in poll.streams.items() if p > applied.get(s, 0)}  # else redelivered
        if isolate:
            _apply_each(projection, conn, schema, upto)
        else:
            projection.apply(conn, schema, upto)
        checkpoints.save_partitions(conn, projection.name, poll.partitions, partition_count)
        checkpoints.advance_watermark(conn, projection.name)
    return len(upto)


def _apply_each(projection: Projection, conn: Connection, schema: str, upto: dict[str, int]) -> None:
    for stream_id, position in sorted(upto.items()):
        savepoint = conn.begin_nested()
        try:
            projection.apply(conn, schema, {stream_id: position})
            savepoint.commit()
        except Exception as exc:
            if not refused(exc):
                raise
            savepoint.rollback()
            projection.give_up(conn, schema, stream_id, position, exc)


def wait_for_topic(bootstrap: str, topic: str, stop: threading.Event) -> int | None:
    """The topic's partition count once it exists. Subscribing to a missing topic can make a
    broker auto-create it with its default layout (Tansu does, ignoring the client's flag), so
    workers wait for the relay to create it."""
    waited = False
    while not stop.is_set():
        count = broker.partition_count(bootstrap, topic)
        if count:
            return count
        if not waited:
            log.info("waiting for the relay to create topic %s", topic)
            waited = True
        stop.wait(1.0)
    return None


def take_snapshots(projection: Projection, engine: Engine, budget: float, every: int | None = None) -> int:
    """Take the projection's snapshots due on its grid (`every` positions; default: its own) for up
    to `budget` seconds (at least one if any is due), each under its lock; how many."""
    every = every or projection.snapshot_every
    if not every:
        return 0
    taken, started = 0, time.monotonic()
    while True:
        with engine.begin() as conn:
            coordination.hold(conn, projection.lock)
            if not projection.snapshot(conn, every):
                return taken
        taken += 1
        if time.monotonic() - started >= budget:
            return taken


# Snapshots (one is due every `every` events; a step costs ~0.15 s at 1M events): while applying,
# one step at most every BUSY_PERIOD seconds (at most ~1.5% of the worker: under a sustained load
# above ~1,000 events/s the grid lags), and IDLE_BUDGET seconds of them per idle poll (the rest of
# the grid, e.g. after catching up from empty). After a failure, none for SNAPSHOT_RETRY seconds.
BUSY_PERIOD, IDLE_BUDGET, SNAPSHOT_RETRY = 10.0, 0.5, 5.0


class Worker:
    def __init__(self, projection: Projection, engine: Engine, bootstrap: str, topic: str, group: str = GROUP,
                 snapshot_every: int | None = None):
        self.projection = projection
        self.engine, self.bootstrap, self.topic, self.group = engine, bootstrap, topic, group
        self.snapshot_every = snapshot_every or projection.snapshot_every
        # when the last one was taken; at the start, as if just now: a worker that starts on a
        # backlog applies for BUSY_PERIOD before its first step (a step at 1M events cost ~0.2-0.4 s,
        # ~10% of applying 20k new events), idle polls take them at once
        self.snapshotted = time.monotonic()
        self.snapshots_after = 0.0  # after a failure: not before then
        self.applied_batches = 0
        self.partition_count: int | None = None
        self._partitions_checked = 0.0

    def run(self, stop: threading.Event) -> None:
        consumer = None
        while not stop.is_set():
            try:
                if consumer is None:
                    self.partition_count = wait_for_topic(self.bootstrap, self.topic, stop)
                    if self.partition_count is None:
                        break
                    consumer = make_consumer(self.bootstrap, self.topic, self.group)
                    log.info("worker joined group %s on %s (%d partitions)", self.group, self.topic,
                             self.partition_count)
                messages = _consumed(consumer)
                if messages:
                    apply_poll(self.projection, self.engine, Poll.of_messages(messages),
                               partition_count=self._partitions(consumer))
                    self.applied_batches += 1
                    self._commit(consumer)
                self._snapshots(busy=bool(messages))
            except (KafkaError, OperationalError) as exc:
                log.warning("%s; retrying", exc.__class__.__name__)
                consumer = self._close(consumer)
                stop.wait(1.0)
            except Exception:  # a bug must not end the worker: the poll is redelivered and retried
                log.exception("applying a poll failed; retrying")
                consumer = self._close(consumer)
                stop.wait(2.0)
        self._close(consumer)

    def _snapshots(self, busy: bool) -> int:
        """Best effort, apart from applying: a failure (the database away) leaves the consumer
        alone (its group would have to rebalance). How many were taken."""
        now = time.monotonic()
        if now < self.snapshots_after or (busy and now - self.snapshotted < BUSY_PERIOD):
            return 0
        try:
            taken = take_snapshots(self.projection, self.engine, 0 if busy else IDLE_BUDGET, self.snapshot_every)
        except Exception as exc:
            log.warning("taking snapshots failed (%s); retrying in %.0fs", describe(exc), SNAPSHOT_RETRY)
            self.snapshots_after = now + SNAPSHOT_RETRY
            return 0
        if taken:
            self.snapshotted = time.monotonic()
        return taken

    def _partitions(self, consumer: Consumer) -> int | None:
        """The topic's partition count, from the consumer's metadata every few seconds."""
        if time.monotonic() - self._partitions_checked > PARTITIONS_CHECK_SECONDS:
            try:
                topic = consumer.list_topics(self.topic, timeout=2).topics.get(self.topic)
                if topic is not None and topic.error is None and topic.partitions:
                    self.partition_count = len(topic.partitions)
            except KafkaException:
                log.debug("topic metadata unavailable; keeping the partition count", exc_info=True)
            self._partitions_checked = time.monotonic()
        return self.partition_count

    @staticmethod
    def _commit(consumer: Consumer) -> None:
        try:
            consumer.commit(asynchronous=False)
        except KafkaException as exc:
            log.info("offset commit failed (%s); PostgreSQL checkpoints still hold", exc)

    @staticmethod
    def _close(consumer: Consumer | None) -> None:
        if consumer is not None:
            try:
                consumer.close()  # no offsets committed: enable.auto.commit is off
            except Exception:  # a consumer whose broker vanished may fail to close; drop it
                log.debug("consumer close failed", exc_info=True)
        return None


def _consumed(consumer: Consumer) -> list:
    """Up to MAX_POLL_RECORDS messages: waiting at most 0.2 s for the first, then what has been
    fetched already (consume() with a timeout waits for all of them until it runs out: at 500
    events/s that was 0.2 s of latency per poll)."""
    try:
        first = consumer.poll(0.2)
        if first is None:
            return []
        return [first, *consumer.consume(MAX_POLL_RECORDS - 1, 0)]
    except KafkaException as exc:
        raise KafkaError(f"consuming failed: {exc}") from exc
