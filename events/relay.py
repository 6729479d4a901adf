"""The relay: committed events, in commit order, to Kafka (key = deal_id).

At least once: the checkpoint moves only after the broker acknowledged the batch. One relay
is active at a time (LOCK TABLE coordination.relay in a transaction it keeps open, see
infra.coordination: no reader can take it); others wait as hot standbys. If the broker
lost its log (the embedded one keeps none across restarts), the relay rewinds to the lowest
position a consumer has applied and publishes again; consumers skip what they already have."""
import logging
import threading
import time
from dataclasses import dataclass

from kafka.errors import KafkaError
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from events import broker
from events.envelope import Envelope
from events.log_reader import Shape, read_committed
from events.outgoing import COLUMNS, Outgoing, outgoing_from_row
from events.page_producer import Page, PageProducer
from events.tables import consumer_checkpoint, event, relay_checkpoint
from infra import coordination

log = logging.getLogger("dealtrail.relay")
LOCK_KEY = coordination.RELAY
TOPIC_CHECK_SECONDS = 5.0
LEADERSHIP_CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class RelayConfig:
    bootstrap: str
    topic: str = "dealtrail.events"
    partitions: int = 6
    name: str = "main"
    batch: int = 2000
    poll_seconds: float = 0.05


PUBLISHED = Shape(COLUMNS, outgoing_from_row)


def message_headers(env: Envelope | Outgoing) -> list[tuple[str, bytes]]:
    return [("type", env.type.encode()), ("position", str(env.position).encode()),
            ("deal_id", env.deal_id.encode())]


class Relay:
    def __init__(self, engine: Engine, config: RelayConfig):
        self.engine = engine
        self.config = config
        self.position = 0
        self.offsets: dict[int, int] = {}
        self.published = 0
        self.topic_id: str | None = None
        self._checked_at = 0.0
        self._producer = None
        self._in_flight: _Sent | None = None
        self._started = True  # until the first connect: an empty broker then is a fresh one

    def run(self, stop: threading.Event) -> None:
        """Lead until `stop`. A database restart ends the session that holds the lock (and
        another relay may take it): then stand by again, as at start."""
        while not stop.is_set():
            try:
                self._lead(stop)
            except (LeadershipLost, OperationalError) as exc:
                log.warning("relay %s is not leading (%s); standing by", self.config.name,
                            exc.__class__.__name__)
                stop.wait(1.0)

    def _lead(self, stop: threading.Event) -> None:
        with self.engine.connect() as lock_conn:
            if not self._acquire_leadership(lock_conn, stop):
                return
            log.info("relay %s is active", self.config.name)
            self._load_checkpoint()
            try:
                self._loop(stop, lock_conn)
                self._drain()
            finally:
                self._close_producer()
                _release(lock_conn)

    def _acquire_leadership(self, conn: Connection, stop: threading.Event) -> bool:
        while not stop.is_set():
            if coordination.try_hold(conn, LOCK_KEY):  # held while this transaction stays open
                return True
            stop.wait(1.0)
        return False

    def _loop(self, stop: threading.Event, lock_conn: Connection) -> None:
        backoff, checked = 0.2, time.monotonic()
        while not stop.is_set():
            if time.monotonic() - checked > LEADERSHIP_CHECK_SECONDS:
                _ensure_leader(lock_conn)
                checked = time.monotonic()
            try:
                if self._producer is None:
                    self._connect()
                moved = self.step()
                backoff = 0.2
                if not moved:
                    stop.wait(self.config.poll_seconds)
            except (KafkaError, OperationalError) as exc:
                log.warning("%s unavailable (%s); retrying in %.1fs",
                            "database" if isinstance(exc, OperationalError) else "broker",
                            exc.__class__.__name__, backoff)
                self._close_producer()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                checked = 0.0  # the database may have restarted: is the lock still ours?

    def _connect(self) -> None:
        created = broker.ensure_topic(self.config.bootstrap, self.config.topic, self.config.partitions)
        if created and self.position > 0:
            # at this process's start that is how an embedded broker (in memory) always begins:
            # said at INFO, so a clean restart of `up` logs no WARNING
            self._rewind("the topic was missing", level=logging.INFO if self._started else logging.WARNING)
            self.topic_id = None  # the new topic's id is recorded next, without a second rewind
        self._started = False
        self._check_topic()
        self._producer = PageProducer(self.config.bootstrap)

    def _check_topic(self) -> None:
        """A topic recreated behind our back (e.g. auto-created by a consumer after the broker
        lost its log) has a new id: what was published to the old one must be published again."""
        info = broker.describe_topic(self.config.bootstrap, self.config.topic)
        self._checked_at = time.monotonic()
        if info is None:
            raise KafkaError(f"topic {self.config.topic} vanished")
        if info.partitions != self.config.partitions:
            log.warning("topic %s has %d partitions, configured %d; consumers skip by stream, "
                        "so nothing is lost, but scale-out is bounded by %d",
                        self.config.topic, info.partitions, self.config.partitions, info.partitions)
        if info.topic_id and info.topic_id != self.topic_id:
            if self.topic_id is not None and self.position > 0:
                self._rewind(f"topic {self.config.topic} was recreated")
            self.topic_id = info.topic_id
            self._save_checkpoint(self.position, self.offsets)

    def step(self) -> bool:
        """Publish one batch; False when there was nothing to publish. The next page is read
        and sent while this one's acknowledgements are awaited (the read was a quarter of a
        relay's time, spent with the producer idle); the checkpoint still moves only past
        acknowledged pages, one at a time, in order."""
        if time.monotonic() - self._checked_at > TOPIC_CHECK_SECONDS:
            self._check_topic()
        if self._in_flight is None:
            self._in_flight = self._send(self.position)
            if self._in_flight is None:
                return False
        current = self._in_flight
        self._in_flight = self._send(current.through)
        self._settle(current)
        return True

    def _send(self, after: int) -> "_Sent | None":
        page = read_committed(self.engine, after, self.config.batch, shape=PUBLISHED)
        if not page.envelopes:
            return None
        messages = [(out.deal_id.encode(), out.value, message_headers(out)) for out in page.envelopes]
        return _Sent(after, page.through, self._producer.send(self.config.topic, messages))

    def _settle(self, sent: "_Sent") -> None:
        """Wait for a sent page's acknowledgements, then move the checkpoint past it."""
        offsets = dict(self.offsets)
        acks = self._producer.acknowledged(sent.page)
        for partition, offset in acks:
            if offset < self.offsets.get(partition, 0):
                # Someone recreated the topic behind our back; the partition log went back.
                self._rewind(f"partition {partition} offsets went back")
                return
            offsets[partition] = max(offsets.get(partition, 0), offset + 1)
        self._save_checkpoint(sent.through, offsets)
        self.published += len(acks)

    def _drain(self) -> None:
        """On a stop: record the page sent ahead if the broker acknowledges it (else it is
        published again after the restart, as any unrecorded page is)."""
        if self._in_flight is None or self._producer is None:
            return
        try:
            self._settle(self._in_flight)
        except (KafkaError, OperationalError) as exc:
            log.warning("the page sent ahead was not recorded (%s); it is published again", exc.__class__.__name__)
        self._in_flight = None

    def _rewind(self, why: str, level: int = logging.WARNING) -> None:
        with self.engine.begin() as conn:
            target = conn.execute(select(func.coalesce(func.min(consumer_checkpoint.c.position), 0))).scalar()
        target = min(target, self.position)
        log.log(level, "broker lost its log (%s): republishing from position %d (was %d)",
                why, target, self.position)
        self._in_flight = None  # sent after what is now published again
        self._save_checkpoint(target, {})

    def _load_checkpoint(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("INSERT INTO events.relay_checkpoint (relay) VALUES (:r) "
                              "ON CONFLICT DO NOTHING"), {"r": self.config.name})
            row = conn.execute(select(relay_checkpoint).where(
                relay_checkpoint.c.relay == self.config.name)).mappings().one()
        self.position = row["position"]
        self.offsets = {int(p): o for p, o in row["partition_offsets"].items()}
        self.topic_id = row["topic_id"]

    def _save_checkpoint(self, position: int, offsets: dict[int, int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(relay_checkpoint.update()
                         .where(relay_checkpoint.c.relay == self.config.name)
                         .values(position=position, partition_offsets={str(p): o for p, o in offsets.items()},
                                 topic_id=self.topic_id, updated_at=func.now()))
        self.position, self.offsets = position, offsets

    def _close_producer(self) -> None:
        self._in_flight = None  # unacknowledged: published again from the checkpoint
        if self._producer is not None:
            try:
                self._producer.close(timeout=1.0)
            except Exception:  # closing a producer whose broker is gone may fail; nothing to keep
                log.debug("producer close failed", exc_info=True)
            self._producer = None


@dataclass(frozen=True)
class _Sent:
    """A page handed to the producer: its messages in flight and the position it reaches."""
    after: int
    through: int
    page: Page


class LeadershipLost(RuntimeError):
    """The session holding the relay lock is gone."""


def _ensure_leader(conn: Connection) -> None:
    try:
        held = coordination.holds(conn, LOCK_KEY)  # no commit: that would let the lock go
    except SQLAlchemyError as exc:
        raise LeadershipLost() from exc
    if not held:
        raise LeadershipLost()


def _release(conn: Connection) -> None:
    try:
        conn.rollback()
    except SQLAlchemyError:
        pass  # the session is gone, and its lock with it


def relay_lag(conn: Connection, name: str = "main") -> dict:
    """Events and seconds the relay is behind the log."""
    position = conn.execute(select(relay_checkpoint.c.position).where(
        relay_checkpoint.c.relay == name)).scalar() or 0
    behind = conn.execute(select(func.count()).select_from(
        select(event.c.position).where(event.c.position > position).limit(10_000_000).subquery())).scalar()
    oldest = conn.execute(select(func.min(event.c.recorded_at)).where(
        event.c.position.in_(select(event.c.position).where(event.c.position > position)
                             .order_by(event.c.position).limit(1)))).scalar()
    seconds = conn.execute(select(func.extract("epoch", func.now() - oldest))).scalar() if oldest else 0
    head = conn.execute(select(func.coalesce(func.max(event.c.position), 0))).scalar()
    return {"name": name, "position": position, "head_position": head,
            "events_behind": behind, "seconds_behind": round(float(seconds or 0), 3)}
