"""Event store: append-only events.event, stream heads, relay and consumer checkpoints, roles.

Revision ID: 0001
Revises:
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = r"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dealtrail_app') THEN
    CREATE ROLE dealtrail_app NOLOGIN;
  END IF;
END $$;
DO $$ BEGIN
  IF NOT pg_has_role(current_user, 'dealtrail_app', 'MEMBER') THEN
    EXECUTE format('GRANT dealtrail_app TO %I', current_user);
  END IF;
END $$;

CREATE SCHEMA events;
COMMENT ON SCHEMA events IS 'Dealtrail system of record: the append-only event log and its bookkeeping.';

CREATE SEQUENCE events.position_seq AS bigint;

-- The transaction id is assigned before the position, so a reader that sees a position
-- missing can tell from its snapshot whether the owner is still running (see events.log_reader).
CREATE FUNCTION events.next_position() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_current_xact_id();
  RETURN nextval('events.position_seq');
END $$;

CREATE TABLE events.event (
  position        bigint      PRIMARY KEY DEFAULT events.next_position(),
  event_id        uuid        NOT NULL UNIQUE,
  deal_id         text        NOT NULL,
  stream_version  integer     NOT NULL CHECK (stream_version >= 1),
  type            text        NOT NULL,
  occurred_at     timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL,
  actor           text        NOT NULL,
  source          text        NOT NULL,
  correlation_id  text,
  causation_id    text,
  schema_version  integer     NOT NULL DEFAULT 1,
  data            jsonb       NOT NULL,
  prev_hash       text        NOT NULL,
  hash            text        NOT NULL,
  request_digest  text        NOT NULL,
  UNIQUE (deal_id, stream_version)
);
ALTER SEQUENCE events.position_seq OWNED BY events.event.position;
COMMENT ON TABLE events.event IS 'Append-only event log (system of record). UPDATE/DELETE/TRUNCATE are rejected by triggers.';
COMMENT ON COLUMN events.event.position IS 'Global position; read in commit order via events.log_reader (gap-aware).';
COMMENT ON COLUMN events.event.deal_id IS 'The stream: a deal id, or target:<id>, review:<id>, pipeline:<id>.';
COMMENT ON COLUMN events.event.stream_version IS '1, 2, ... per stream, no gaps.';
COMMENT ON COLUMN events.event.occurred_at IS 'Business time (may be back-dated).';
COMMENT ON COLUMN events.event.recorded_at IS 'Server time of the appending transaction.';
COMMENT ON COLUMN events.event.hash IS 'sha256(prev_hash || canonical JSON of the envelope without hash).';
COMMENT ON COLUMN events.event.request_digest IS 'Digest of the client-supplied content, for idempotent retries.';

CREATE FUNCTION events.reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events.event is append-only: % rejected', TG_OP
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER event_no_update_delete BEFORE UPDATE OR DELETE ON events.event
  FOR EACH ROW EXECUTE FUNCTION events.reject_change();
CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON events.event
  FOR EACH STATEMENT EXECUTE FUNCTION events.reject_change();

CREATE TABLE events.stream_head (
  deal_id     text        PRIMARY KEY,
  version     integer     NOT NULL DEFAULT 0,
  last_hash   text        NOT NULL DEFAULT repeat('0', 64),
  state       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE events.stream_head IS 'Per-stream tip (version, last hash) and the aggregate state folded from its events; the lock point for appends.';

CREATE TABLE events.relay_checkpoint (
  relay       text        PRIMARY KEY,
  position    bigint      NOT NULL DEFAULT 0,
  partition_offsets jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE events.relay_checkpoint IS 'Last position the broker acknowledged, and the partition end offsets seen (to detect a broker that lost its log).';

CREATE TABLE events.consumer_checkpoint (
  consumer    text        NOT NULL,
  partition   integer     NOT NULL,
  position    bigint      NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, partition)
);
COMMENT ON TABLE events.consumer_checkpoint IS 'Positions applied by Kafka consumers; the relay republishes from the lowest one when the broker comes back empty.';

GRANT USAGE ON SCHEMA events TO dealtrail_app;
GRANT SELECT, INSERT ON events.event TO dealtrail_app;
GRANT USAGE ON SEQUENCE events.position_seq TO dealtrail_app;
GRANT EXECUTE ON FUNCTION events.next_position() TO dealtrail_app;
GRANT SELECT, INSERT, UPDATE ON events.stream_head, events.relay_checkpoint, events.consumer_checkpoint TO dealtrail_app;
"""

DOWNGRADE = r"""
DROP SCHEMA events CASCADE;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
