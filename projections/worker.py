"""`dealtrail project`: a Kafka consumer-group member applying events to the read models.

Each poll's events and the checkpoints commit in one PostgreSQL transaction; an event at or
below its stream's applied position is skipped, so a redelivered event takes effect once,
whatever partition (or topic layout) it comes from. Kafka offsets are committed after
PostgreSQL, as a hint only: PostgreSQL holds the truth."""
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from kafka import KafkaConsumer
from kafka.errors import CommitFailedError, KafkaError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from events import broker
from projections import checkpoints, sales, snapshots
from projections.quarantine import describe, refused

log = logging.getLogger("dealtrail.worker")
GROUP = "dealtrail-projections"


def make_consumer(bootstrap: str, topic: str, group: str) -> KafkaConsumer:
    return KafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest", allow_auto_create_topics=False, max_poll_records=2000,
        max_poll_interval_ms=60_000, session_timeout_ms=6000, heartbeat_interval_ms=1000,
        metadata_max_age_ms=5000, fetch_max_wait_ms=100, reconnect_backoff_max_ms=1000,
    )


def position_of(record) -> int:
    for key, value in record.headers or ():
        if key == "position":
            return int(value)
    raise ValueError(f"message at offset {record.offset} has no position header")


@dataclass
class Poll:
    """One poll's records reduced to what applying needs: the newest position per stream and
    per partition."""
    streams: dict[str, int] = field(default_factory=dict)
    partitions: dict[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Mapping) -> "Poll":
        poll = cls()
        for tp, batch in records.items():
            for record in batch:
                position, stream_id = position_of(record), record.key.decode()
                poll.streams[stream_id] = max(poll.streams.get(stream_id, 0), position)
                poll.partitions[tp.partition] = max(poll.partitions.get(tp.partition, 0), position)
        return poll


def apply_records(engine: Engine, records: Mapping, schema: str = "read_models",
                  partition_count: int | None = None) -> int:
    """Apply one poll's records ({TopicPartition: [records]}) in one transaction; returns how
    many streams had new events. If the database refuses the batch, each stream is applied on
    its own and the ones it still refuses are recorded in projection_errors (never retried
    forever: one bad stream must not stop the others)."""
    poll = Poll.of(records)
    try:
        return _apply(engine, poll, schema, partition_count, isolate=False)
    except Exception as exc:
        if not refused(exc):
            raise  # e.g. the database is unavailable: the whole poll is retried later
        log.warning("batch refused (%s); applying stream by stream", describe(exc))
        return _apply(engine, poll, schema, partition_count, isolate=True)


def _apply(engine: Engine, poll: Poll, schema: str, partition_count: int | None, isolate: bool) -> int:
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": sales.TABLES_LOCK})
        applied = checkpoints.applied_streams(conn, sales.NAME, list(poll.streams))
        upto = {s: p for s, p in poll.streams.items() if p > applied.get(s, 0)}  # else redelivered
        if isolate:
            _apply_each(conn, schema, upto)
        else:
            sales.apply(conn, schema, upto)
        checkpoints.save_partitions(conn, sales.NAME, poll.partitions, partition_count)
        checkpoints.advance_watermark(conn, sales.NAME)
    return len(upto)


def _apply_each(conn: Connection, schema: str, upto: dict[str, int]) -> None:
    for stream_id, position in sorted(upto.items()):
        savepoint = conn.begin_nested()
        try:
            sales.apply(conn, schema, {stream_id: position})
            savepoint.commit()
        except Exception as exc:
            if not refused(exc):
                raise
            savepoint.rollback()
            sales.give_up(conn, schema, stream_id, position, exc)


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


def take_snapshots(engine: Engine, budget: float, every: int = snapshots.EVERY) -> int:
    """Take the sums snapshots due on the grid (projections.snapshots) for up to `budget` seconds
    (at least one if any is due); how many."""
    taken, started = 0, time.monotonic()
    while True:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": sales.TABLES_LOCK})
            if not snapshots.take(conn, checkpoints.applied_through(conn, sales.NAME), every=every):
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
    def __init__(self, engine: Engine, bootstrap: str, topic: str, group: str = GROUP,
                 snapshot_every: int = snapshots.EVERY):
        self.engine, self.bootstrap, self.topic, self.group = engine, bootstrap, topic, group
        self.snapshot_every = snapshot_every
        # when the last one was taken; at the start, as if just now: a worker that starts on a
        # backlog applies for BUSY_PERIOD before its first step (a step at 1M events cost ~0.2-0.4 s,
        # ~10% of applying 20k new events), idle polls take them at once
        self.snapshotted = time.monotonic()
        self.snapshots_after = 0.0  # after a failure: not before then
        self.applied_batches = 0
        self.partition_count: int | None = None

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
                records = consumer.poll(timeout_ms=200)
                if records:
                    count = consumer.partitions_for_topic(self.topic)
                    apply_records(self.engine, records, partition_count=len(count) if count else None)
                    self.applied_batches += 1
                    self._commit(consumer)
                self._snapshots(busy=bool(records))
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
            taken = take_snapshots(self.engine, 0 if busy else IDLE_BUDGET, self.snapshot_every)
        except Exception as exc:
            log.warning("taking snapshots failed (%s); retrying in %.0fs", describe(exc), SNAPSHOT_RETRY)
            self.snapshots_after = now + SNAPSHOT_RETRY
            return 0
        if taken:
            self.snapshotted = time.monotonic()
        return taken

    @staticmethod
    def _commit(consumer: KafkaConsumer) -> None:
        try:
            consumer.commit()
        except CommitFailedError:
            log.info("offset commit failed after a rebalance; PostgreSQL checkpoints still hold")

    @staticmethod
    def _close(consumer: KafkaConsumer | None) -> None:
        if consumer is not None:
            try:
                consumer.close(autocommit=False)
            except Exception:  # a consumer whose broker vanished may fail to close; drop it
                log.debug("consumer close failed", exc_info=True)
        return None
