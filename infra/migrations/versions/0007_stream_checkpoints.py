"""Per-stream checkpoints and quarantined events: duplicates are skipped by each stream's applied
position (so a repartitioned or recreated topic cannot make a worker skip anything), and an event
a projection cannot apply is recorded instead of stopping the worker.

Revision ID: 0007
Revises: 0006
"""
import importlib

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_m2 = importlib.import_module("infra.migrations.versions.0002_read_models")

TABLES = [
    ("projection_stream", "Newest position each projection applied per stream (deal, target:, review:, pipeline:): redelivered events at or below it are skipped.", [
        ("projection", "text NOT NULL", "Projection name."),
        ("stream_id", "text NOT NULL", "The stream (deal_id of events.event)."),
        ("position", "bigint NOT NULL", "Newest position of the stream the projection reflects."),
    ], ["ALTER TABLE read_models.projection_stream ADD PRIMARY KEY (projection, stream_id)"]),
    ("projection_errors", "Events a projection could not apply. The event is left out of its stream's rows (as if voided) and every other stream keeps projecting; a rebuild with fixed code retries it.", [
        ("projection", "text NOT NULL", "Projection name."),
        ("stream_id", "text NOT NULL", "The stream whose rows are marked incomplete."),
        ("position", "bigint NOT NULL", "Position of the event left out."),
        ("event_id", "uuid", "The event left out (null when the whole stream's write failed)."),
        ("type", "text", "Its type."),
        ("error", "text NOT NULL", "Why it could not be applied."),
        ("recorded_at", "timestamptz NOT NULL DEFAULT now()", "When the projection gave up on it."),
    ], ["ALTER TABLE read_models.projection_errors ADD PRIMARY KEY (projection, stream_id, position)"]),
]

# Existing installs: what deal_current reflects, and the loop streams up to the old floor.
BACKFILL = """
-- The watermark: every event at or below it is applied (max of the rebuild floor and the lowest
-- partition checkpoint). The relay now rewinds to it, not to per-partition positions.
WITH floor AS (SELECT projection, position FROM read_models.projection_checkpoint WHERE partition = -1),
     parts AS (SELECT projection, min(position) AS position FROM read_models.projection_checkpoint
               WHERE partition >= 0 GROUP BY projection)
INSERT INTO read_models.projection_checkpoint (projection, partition, position)
SELECT projection, -1, greatest(coalesce(f.position, 0), coalesce(p.position, 0))
FROM floor f FULL JOIN parts p USING (projection)
ON CONFLICT (projection, partition) DO UPDATE SET position = EXCLUDED.position;
DELETE FROM events.consumer_checkpoint;
INSERT INTO events.consumer_checkpoint (consumer, partition, position)
SELECT projection, -1, position FROM read_models.projection_checkpoint WHERE partition = -1;
-- What deal_current reflects, and the loop streams up to the watermark.
INSERT INTO read_models.projection_stream (projection, stream_id, position)
SELECT 'sales', deal_id, last_position FROM read_models.deal_current;
INSERT INTO read_models.projection_stream (projection, stream_id, position)
SELECT 'sales', e.deal_id, max(e.position) FROM events.event e
WHERE e.deal_id LIKE '%:%' AND e.position <= (
    SELECT coalesce(max(position), 0) FROM read_models.projection_checkpoint
    WHERE projection = 'sales' AND partition = -1)
GROUP BY e.deal_id;
ALTER TABLE events.relay_checkpoint ADD COLUMN topic_id text;
COMMENT ON COLUMN events.relay_checkpoint.topic_id IS 'Identity of the topic the offsets belong to: a recreated topic (new id) makes the relay republish.';
"""


def upgrade() -> None:
    for statement in _m2.table_ddl(tables=TABLES):
        op.execute(statement)
    op.execute("GRANT SELECT ON read_models.projection_stream, read_models.projection_errors TO bi_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.projection_stream, "
               "read_models.projection_errors TO dealtrail_app")
    op.execute(BACKFILL)
    op.execute("COMMENT ON TABLE read_models.projection_checkpoint IS 'Positions each projection applied: "
               "per Kafka partition (informational), and partition -1: the watermark below which every "
               "event is applied (reports'' as_of_position; the relay republishes from it).'")


def downgrade() -> None:
    op.execute("DROP TABLE read_models.projection_stream, read_models.projection_errors")
    op.execute("ALTER TABLE events.relay_checkpoint DROP COLUMN topic_id")
