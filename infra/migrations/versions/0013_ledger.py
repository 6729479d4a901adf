"""Ledger digests (SPEC §5): the RFC 9162 Merkle tree over the event log, stored as its perfect
subtree hashes (append-only, like events.event), the tree's right edge, each event's leaf index,
and the signed digests recorded by `dealtrail watch`. bi_reader gets nothing here.

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APPEND_ONLY = ("merkle_node", "leaf", "digest")

UPGRADE = r"""
CREATE SCHEMA audit;
COMMENT ON SCHEMA audit IS 'Ledger digests: the Merkle tree over events.event in position order, and signed tree heads.';

CREATE TABLE audit.merkle_node (
  level  smallint NOT NULL CHECK (level >= 0),
  idx    bigint   NOT NULL CHECK (idx >= 0),
  hash   bytea    NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);
COMMENT ON TABLE audit.merkle_node IS 'Every perfect subtree of the RFC 9162 tree: leaves [idx*2^level, (idx+1)*2^level). Append-only.';

CREATE TABLE audit.leaf (
  leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
  position   bigint NOT NULL UNIQUE,
  event_id   uuid   NOT NULL UNIQUE
);
COMMENT ON TABLE audit.leaf IS 'Leaf index (rank in position order) of each event in the tree. Append-only.';

CREATE TABLE audit.merkle_frontier (
  id            boolean     PRIMARY KEY DEFAULT true CHECK (id),
  tree_size     bigint      NOT NULL,
  last_position bigint      NOT NULL,
  frontier      jsonb       NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE audit.merkle_frontier IS 'One row: the tree''s size, the last position in it and its right edge (events.merkle.Frontier JSON).';
INSERT INTO audit.merkle_frontier (tree_size, last_position, frontier)
VALUES (0, 0, '{"tree_size": 0, "hashes": []}');

CREATE TABLE audit.digest (
  tree_size     bigint      PRIMARY KEY,
  root_hash     text        NOT NULL,
  last_position bigint      NOT NULL,
  issued_at     text        NOT NULL,
  key_id        text        NOT NULL,
  signature     text        NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE audit.digest IS 'Signed digests recorded by dealtrail watch (also published to Kafka dealtrail.digests). Append-only.';

CREATE FUNCTION audit.reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: % rejected', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END $$;

GRANT USAGE ON SCHEMA audit TO dealtrail_app;
GRANT SELECT, INSERT ON audit.merkle_node, audit.leaf, audit.digest TO dealtrail_app;
GRANT SELECT, UPDATE ON audit.merkle_frontier TO dealtrail_app;
"""

TRIGGERS = r"""
CREATE TRIGGER {t}_no_update_delete BEFORE UPDATE OR DELETE ON audit.{t}
  FOR EACH ROW EXECUTE FUNCTION audit.reject_change();
CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON audit.{t}
  FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_change();
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    for table in APPEND_ONLY:
        op.execute(TRIGGERS.format(t=table))


def downgrade() -> None:
    op.execute("DROP SCHEMA audit CASCADE")
