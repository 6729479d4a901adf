"""The audit schema's tables (migration 0013), declared once for the ledger's statements."""
from sqlalchemy import BigInteger, Boolean, Column, DateTime, LargeBinary, MetaData, SmallInteger, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(schema="audit")

merkle_node = Table("merkle_node", metadata,
                    Column("level", SmallInteger, primary_key=True),
                    Column("idx", BigInteger, primary_key=True),
                    Column("hash", LargeBinary, nullable=False))

leaf = Table("leaf", metadata,
             Column("leaf_index", BigInteger, primary_key=True),
             Column("position", BigInteger, nullable=False, unique=True),
             Column("event_id", Uuid(as_uuid=False), nullable=False, unique=True))

merkle_frontier = Table("merkle_frontier", metadata,
                        Column("id", Boolean, primary_key=True),
                        Column("tree_size", BigInteger, nullable=False),
                        Column("last_position", BigInteger, nullable=False),
                        Column("frontier", JSONB, nullable=False),
                        Column("updated_at", DateTime(timezone=True), nullable=False))

digest = Table("digest", metadata,
               Column("tree_size", BigInteger, primary_key=True),
               Column("root_hash", Text, nullable=False),
               Column("last_position", BigInteger, nullable=False),
               Column("issued_at", Text, nullable=False),
               Column("key_id", Text, nullable=False),
               Column("signature", Text, nullable=False),
               Column("recorded_at", DateTime(timezone=True), nullable=False))

DIGEST_FIELDS = ("tree_size", "root_hash", "last_position", "issued_at", "key_id", "signature")
