"""SQLAlchemy Core definitions of the `events` schema (the migration is the source of truth)."""
from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData(schema="events")

event = Table(
    "event", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
    Column("deal_id", Text, nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("correlation_id", Text),
    Column("causation_id", Text),
    Column("schema_version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("request_digest", Text, nullable=False),
    Column("actor_key_id", Text),  # migration 0022: null before it and for the system's own events
)

stream_head = Table(
    "stream_head", metadata,
    Column("deal_id", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("last_hash", Text, nullable=False),
    Column("state", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

relay_checkpoint = Table(
    "relay_checkpoint", metadata,
    Column("relay", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("partition_offsets", JSONB, nullable=False),
    Column("topic_id", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

consumer_checkpoint = Table(
    "consumer_checkpoint", metadata,
    Column("consumer", Text, primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

ENVELOPE_COLUMNS = [c for c in event.c if c.name != "request_digest"]
