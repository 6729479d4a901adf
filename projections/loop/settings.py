"""The configuration the loop's views read (read_models.loop_settings): the target rule's
deviation threshold, recorded by the watcher so the target_attainment view judges as it does."""
from sqlalchemy import Connection, text

_THRESHOLD = text("INSERT INTO read_models.loop_settings (name, value) VALUES ('deviation_threshold', :v) "
                  "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value")


def record_deviation_threshold(conn: Connection, threshold) -> None:
    conn.execute(_THRESHOLD, {"v": str(threshold)})
