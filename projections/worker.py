"""`dealtrail project`: a Kafka consumer-group member applying events to the read models.

Each poll's events and the checkpoints commit in one PostgreSQL transaction; events at or
below a partition's checkpoint are skipped, so a redelivered event takes effect once. Kafka
offsets are committed after PostgreSQL, as a hint only: PostgreSQL holds the truth."""
import logging
import threading
from collections.abc import Mapping

from kafka import KafkaConsumer
from kafka.errors import CommitFailedError, KafkaError
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from projections import checkpoints, sales

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


def apply_records(engine: Engine, records: Mapping, schema: str = "read_models") -> int:
    """Apply one poll's records ({TopicPartition: [records]}) in one transaction; returns how
    many were new (not already applied)."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": sales.TABLES_LOCK})
        applied = checkpoints.read(conn, sales.NAME)
        floor = applied.get(checkpoints.FLOOR, 0)
        upto: dict[str, int] = {}
        moved: dict[int, int] = {}
        for tp, batch in records.items():
            seen = max(applied.get(tp.partition, 0), floor)
            for record in batch:
                position = position_of(record)
                if position <= seen:
                    continue  # redelivered: already applied
                deal_id = record.key.decode()
                upto[deal_id] = max(upto.get(deal_id, 0), position)
                moved[tp.partition] = max(moved.get(tp.partition, 0), position)
        sales.apply(conn, schema, upto)
        checkpoints.save(conn, sales.NAME, moved)
    return len(upto)


class Worker:
    def __init__(self, engine: Engine, bootstrap: str, topic: str, group: str = GROUP):
        self.engine, self.bootstrap, self.topic, self.group = engine, bootstrap, topic, group
        self.applied_batches = 0

    def run(self, stop: threading.Event) -> None:
        consumer = None
        while not stop.is_set():
            try:
                if consumer is None:
                    consumer = make_consumer(self.bootstrap, self.topic, self.group)
                    log.info("worker joined group %s on %s", self.group, self.topic)
                records = consumer.poll(timeout_ms=200)
                if records:
                    apply_records(self.engine, records)
                    self.applied_batches += 1
                    self._commit(consumer)
            except (KafkaError, OperationalError) as exc:
                log.warning("%s; retrying", exc.__class__.__name__)
                consumer = self._close(consumer)
                stop.wait(1.0)
        self._close(consumer)

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
