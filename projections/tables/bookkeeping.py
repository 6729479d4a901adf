"""What projections applied (projections.runtime.checkpoints) and the events they left out
(projections.runtime.quarantine)."""
from sqlalchemy import UUID, BigInteger, Column, Integer, Table, Text, text

from projections.tables.base import TIMESTAMPTZ, metadata

projection_checkpoint = Table(
    'projection_checkpoint', metadata,
    Column('projection', Text, primary_key=True, comment='Projection name.'),
    Column('partition', Integer, primary_key=True, comment='Kafka partition, or -1.'),
    Column('position', BigInteger, nullable=False, comment='Highest position applied from that partition.'),
    Column('updated_at', TIMESTAMPTZ, nullable=False, server_default=text('now()'), comment='When it moved.'),
    comment="Positions each projection applied: per Kafka partition (informational), and partition -1: the watermark "
            "below which every event is applied (reports' as_of_position; the relay republishes from it).",
)


projection_stream = Table(
    'projection_stream', metadata,
    Column('projection', Text, primary_key=True, comment='Projection name.'),
    Column('stream_id', Text, primary_key=True, comment='The stream (deal_id of events.event).'),
    Column('position', BigInteger, nullable=False, comment='Newest position of the stream the projection reflects.'),
    comment='Newest position each projection applied per stream (deal, target:, review:, pipeline:): redelivered '
            'events at or below it are skipped.',
)

projection_errors = Table(
    'projection_errors', metadata,
    Column('projection', Text, primary_key=True, comment='Projection name.'),
    Column('stream_id', Text, primary_key=True, comment='The stream whose rows are marked incomplete.'),
    Column('position', BigInteger, primary_key=True, comment='Position of the event left out.'),
    Column('event_id', UUID, comment="The event left out (null when the whole stream's write failed)."),
    Column('type', Text, comment='Its type.'),
    Column('error', Text, nullable=False, comment='Why it could not be applied.'),
    Column('recorded_at', TIMESTAMPTZ, nullable=False, server_default=text('now()'),
           comment='When the projection gave up on it.'),
    comment="Events a projection could not apply. The event is left out of its stream's rows (as if voided) and every "
            "other stream keeps projecting; a rebuild with fixed code retries it.",
)
