"""What a projection has applied.

- Per stream (`projection_stream`): the newest position applied. A redelivered event at or
  below it is skipped. Every event of a stream goes to one partition of one topic layout, but a
  recreated or repartitioned topic moves streams between partitions, so per-partition positions
  cannot tell what was applied; per-stream positions can, whatever the layout.
- The watermark (`projection_checkpoint`, partition -1): every event at or below it is applied.
  Reports quote it as `as_of_position`; it is mirrored into events.consumer_checkpoint, where the
  relay looks for the position to republish from when the broker lost its log.
- Per partition: the newest position applied from each partition (informational only)."""
from collections.abc import Mapping

from sqlalchemy import Connection, text

from infra.array_text import array_text
from projections.runtime.names import schema_name

FLOOR = -1  # the watermark's partition number

_MARK = """
INSERT INTO {s}.projection_stream AS ps (projection, stream_id, position)
SELECT %(projection)s, s, p FROM unnest(%(ids)s::text[], %(positions)s::bigint[]) AS t(s, p)
ON CONFLICT (projection, stream_id) DO UPDATE SET position = greatest(ps.position, EXCLUDED.position)
"""
_SAVE = text("""
INSERT INTO read_models.projection_checkpoint (projection, partition, position, updated_at)
SELECT :projection, p, pos, now() FROM unnest(CAST(:partitions AS int[]), CAST(:positions AS bigint[])) AS t(p, pos)
ON CONFLICT (projection, partition) DO UPDATE
SET position = greatest(read_models.projection_checkpoint.position, EXCLUDED.position), updated_at = now()
""")
_MIRROR = text("""
INSERT INTO events.consumer_checkpoint (consumer, partition, position, updated_at)
VALUES (:projection, -1, :position, now())
ON CONFLICT (consumer, partition) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
""")
# An event the projection has not applied: its stream is not applied that far.
_NOT_APPLIED = """NOT EXISTS (SELECT 1 FROM read_models.projection_stream s
    WHERE s.projection = :projection AND s.stream_id = e.deal_id AND s.position >= e.position)"""
# The first event above the watermark that the projection has not applied, walking the position
# index upwards (each step one primary-key probe): the walk is as long as the watermark moves.
_FIRST_UNAPPLIED = text(f"""
SELECT e.position, e.recorded_at FROM events.event e
WHERE e.position > :after AND e.position <= :limit AND {_NOT_APPLIED}
ORDER BY e.position LIMIT 1
""")
_BEHIND = text(f"""
SELECT count(*), coalesce(extract(epoch FROM now() - min(e.recorded_at)), 0)
FROM events.event e WHERE e.position > :after AND {_NOT_APPLIED}
""")
NO_LIMIT = 2 ** 63 - 1


def applied_streams(conn: Connection, projection: str, stream_ids: list[str]) -> dict[str, int]:
    rows = conn.execute(text("SELECT stream_id, position FROM read_models.projection_stream "
                             "WHERE projection = :p AND stream_id = ANY(CAST(:ids AS text[]))"),
                        {"p": projection, "ids": array_text(stream_ids)})
    return dict(rows.all())


def mark_streams(conn: Connection, projection: str, positions: Mapping[str, int],
                 schema: str = "read_models") -> None:
    if positions:
        conn.exec_driver_sql(_MARK.format(s=schema_name(schema)), {
            "projection": projection, "ids": array_text(list(positions)),
            "positions": array_text(list(positions.values()))})


def read(conn: Connection, projection: str) -> dict[int, int]:
    rows = conn.execute(text("SELECT partition, position FROM read_models.projection_checkpoint "
                             "WHERE projection = :p"), {"p": projection})
    return dict(rows.all())


def save_partitions(conn: Connection, projection: str, positions: Mapping[int, int],
                    partition_count: int | None = None) -> None:
    """Newest position applied per partition; rows of partitions the topic no longer has go."""
    if partition_count is not None:
        conn.execute(text("DELETE FROM read_models.projection_checkpoint WHERE projection = :p "
                          "AND partition >= :n"), {"p": projection, "n": partition_count})
    if positions:
        conn.execute(_SAVE, {"projection": projection, "partitions": list(positions),
                             "positions": list(positions.values())})


def set_watermark(conn: Connection, projection: str, position: int) -> None:
    conn.execute(text("""
        INSERT INTO read_models.projection_checkpoint (projection, partition, position, updated_at)
        VALUES (:p, -1, :pos, now())
        ON CONFLICT (projection, partition) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
        """), {"p": projection, "pos": position})
    conn.execute(_MIRROR, {"projection": projection, "position": position})


def advance_watermark(conn: Connection, projection: str) -> int:
    """Move the watermark up to just below the first unapplied event, never past what the relay
    published (everything at or below the relay's position is committed or a hole for good)."""
    current = applied_through(conn, projection)
    limit = conn.execute(text("SELECT coalesce(max(position), 0) FROM events.relay_checkpoint")).scalar()
    if limit <= current:
        return current
    first = first_unapplied(conn, projection, current, limit)
    watermark = limit if first is None else first[0] - 1
    if watermark > current:
        set_watermark(conn, projection, watermark)
    return max(watermark, current)


def first_unapplied(conn: Connection, projection: str, after: int, limit: int = NO_LIMIT):
    """(position, recorded_at) of the first event above `after` (up to `limit`) not applied, or None."""
    return conn.execute(_FIRST_UNAPPLIED, {"projection": projection, "after": after, "limit": limit}).first()


def applied_through(conn: Connection, projection: str) -> int:
    """The watermark: every event at or below it is reflected by the projection."""
    return conn.execute(text("SELECT coalesce(max(position), 0) FROM read_models.projection_checkpoint "
                             "WHERE projection = :p AND partition = -1"), {"p": projection}).scalar()


def errors_count(conn: Connection, projection: str) -> int:
    return conn.execute(text("SELECT count(*) FROM read_models.projection_errors WHERE projection = :p"),
                        {"p": projection}).scalar()


def errors(conn: Connection, projection: str, limit: int = 100) -> list[dict]:
    rows = conn.execute(text("SELECT stream_id, position, event_id::text, type, error, recorded_at "
                             "FROM read_models.projection_errors WHERE projection = :p "
                             "ORDER BY position LIMIT :n"), {"p": projection, "n": limit})
    return [dict(r) for r in rows.mappings()]


def lag(conn: Connection, projection: str) -> dict:
    """`events_behind` counts the events the projection has really not applied (any stream)."""
    position = applied_through(conn, projection)
    behind, seconds = conn.execute(_BEHIND, {"projection": projection, "after": position}).one()
    return {"name": projection, "position": position, "events_behind": behind,
            "seconds_behind": round(float(seconds), 3), "errors": errors_count(conn, projection),
            "partitions": {str(k): v for k, v in sorted(read(conn, projection).items()) if k >= 0}}
