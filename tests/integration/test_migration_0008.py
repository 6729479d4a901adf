"""Migration 0008 marks the snapshots already taken late as partial, and only those."""
import psycopg2

from infra.migrate import upgrade

ROWS = [("2026-11", "2026-11-01 00:05+00"), ("2026-Q4", "2026-11-23 10:00+00"),
        ("2026", "2026-01-01 12:00+00"), ("2025-12", "2025-12-09 00:00+00")]


def test_existing_late_snapshots_become_partial(databases):
    url = databases.empty()
    upgrade(url, "0006")
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        for period, taken_at in ROWS:
            cur.execute("INSERT INTO read_models.forecast_snapshot VALUES (%s, 'company', 'company', %s, 0, 0, 0, 0)",
                        (period, taken_at))
    upgrade(url)
    with conn.cursor() as cur:
        cur.execute("SELECT period, partial FROM read_models.forecast_snapshot")
        assert dict(cur.fetchall()) == {"2026-11": False, "2026-Q4": True, "2026": False, "2025-12": True}
    conn.close()
