"""Projection checkpoints: per Kafka partition, plus a floor (partition -1) set by rebuilds.
Mirrored into events.consumer_checkpoint, where the relay looks when the broker lost its log."""
from sqlalchemy import Connection, text

FLOOR = -1

_SAVE = text("""
INSERT INTO read_models.projection_checkpoint (projection, partition, position, updated_at)
SELECT :projection, p, pos, now() FROM unnest(CAST(:partitions AS int[]), CAST(:positions AS bigint[])) AS t(p, pos)
ON CONFLICT (projection, partition) DO UPDATE
SET position = greatest(read_models.projection_checkpoint.position, EXCLUDED.position), updated_at = now()
""")
_MIRROR = text("""
INSERT INTO events.consumer_checkpoint (consumer, partition, position, updated_at)
SELECT :projection, p, pos, now() FROM unnest(CAST(:partitions AS int[]), CAST(:positions AS bigint[])) AS t(p, pos)
ON CONFLICT (consumer, partition) DO UPDATE
SET position = greatest(events.consumer_checkpoint.position, EXCLUDED.position), updated_at = now()
""")


def read(conn: Connection, projection: str) -> dict[int, int]:
    rows = conn.execute(text("SELECT partition, position FROM read_models.projection_checkpoint "
                             "WHERE projection = :p"), {"p": projection})
    return dict(rows.all())


def save(conn: Connection, projection: str, positions: dict[int, int]) -> None:
    if not positions:
        return
    params = {"projection": projection, "partitions": list(positions), "positions": list(positions.values())}
    conn.execute(_SAVE, params)
    conn.execute(_MIRROR, params)


def applied_through(conn: Connection, projection: str) -> int:
    """The newest position the projection reflects."""
    return max(read(conn, projection).values(), default=0)


def lag(conn: Connection, projection: str) -> dict:
    position = applied_through(conn, projection)
    row = conn.execute(text(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(recorded_at)), 0) "
        "FROM events.event WHERE position > :p AND deal_id NOT LIKE '%:%'"), {"p": position}).one()
    return {"name": projection, "position": position, "events_behind": row[0],
            "seconds_behind": round(float(row[1]), 3),
            "partitions": {str(k): v for k, v in sorted(read(conn, projection).items())}}
