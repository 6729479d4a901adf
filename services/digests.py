"""Signed digests: issue one for the tree as it stands, record it, publish it to Kafka.

Recorded digests live in audit.digest; published ones on `dealtrail.digests` (key = tree_size,
value = the digest's canonical JSON), so copies exist outside the database a superuser could
rewrite. Publishing is not a dual write that can lose anything: the duty republishes the
latest recorded digest until the broker has acknowledged it."""
import logging
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert

from events import broker, ledger
from events.canonical import canonical_json
from events.digest import sign_digest
from events.ledger_tables import DIGEST_FIELDS, digest

log = logging.getLogger("dealtrail.digests")
TOPIC = "dealtrail.digests"


def issue(engine: Engine, key: Ed25519PrivateKey, now: datetime | None = None) -> dict:
    """Extend the tree and sign its head (not recorded)."""
    head = ledger.extend(engine)
    return sign_digest(key, tree_size=head.tree_size, root_hash=head.root_hash,
                       last_position=head.last_position, issued_at=now or datetime.now(timezone.utc))


def record(engine: Engine, signed: dict) -> None:
    """Keep the first digest of each tree size (a later one of the same size says nothing new)."""
    with engine.begin() as conn:
        conn.execute(insert(digest).values(**signed).on_conflict_do_nothing(index_elements=["tree_size"]))


def latest(engine: Engine) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(*[digest.c[f] for f in DIGEST_FIELDS])
                           .order_by(digest.c.tree_size.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def publish(bootstrap: str, signed: dict) -> None:
    broker.ensure_topic(bootstrap, TOPIC, 1)
    producer = broker.make_producer(bootstrap)
    try:
        producer.send(TOPIC, key=str(signed["tree_size"]).encode(),
                      value=canonical_json(signed).encode("utf-8")).get(timeout=15)
    finally:
        producer.close(timeout=2)


class DigestDuty:
    """watch's digest duty: every `every_seconds`, record a signed digest (when the tree grew, or
    none is recorded yet) and publish the latest recorded one until the broker has it."""

    def __init__(self, key: Ed25519PrivateKey, bootstrap: str | None, every_seconds: float = 60.0):
        self.key, self.bootstrap, self.every = key, bootstrap, every_seconds
        self.last_at: datetime | None = None
        self.published = -1

    def __call__(self, engine: Engine, now: datetime) -> int | None:
        """The tree size of the digest recorded this round, None when not due."""
        if self.last_at is not None and (now - self.last_at).total_seconds() < self.every:
            return None
        signed = issue(engine, self.key, now)
        record(engine, signed)
        self.last_at = now
        newest = latest(engine)
        if self.bootstrap and newest and newest["tree_size"] > self.published:
            publish(self.bootstrap, newest)
            self.published = newest["tree_size"]
            log.info("published the digest of %d events to %s", newest["tree_size"], TOPIC)
        return signed["tree_size"]
