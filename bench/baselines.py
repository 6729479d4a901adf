"""What Dealtrail is compared against: raw PostgreSQL inserts of the same rows (no logic),
the `eventsourcing` library's Postgres recorder (a peer), raw kafka-python produce, a raw scan
of the log with jsonb parsing, and the naive SQL over raw events a BI user would write."""
import json
import threading
import time
import uuid

import psycopg2
from psycopg2.extras import execute_values

RAW_TABLE = """
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.raw_event;
CREATE TABLE bench.raw_event (
  position bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, deal_id text NOT NULL,
  stream_version integer NOT NULL, type text NOT NULL, occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL, data jsonb NOT NULL, UNIQUE (deal_id, stream_version))
"""
PAYLOAD = json.dumps({"channel": "call", "summary": "intro call with the buyer", "duration_minutes": 15})
INSERT = ("INSERT INTO bench.raw_event (event_id, deal_id, stream_version, type, occurred_at, "
          "recorded_at, data) VALUES %s")


def reset_raw(url: str) -> None:
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(RAW_TABLE)
    conn.close()


def run_threads(n: int, seconds: float, work) -> int:
    """Run `work(index, deadline) -> count` on n threads; total count."""
    counts = [0] * n
    deadline = time.monotonic() + seconds

    def runner(i):
        counts[i] = work(i, deadline)
    threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def raw_single_row_rate(url: str, clients: int, seconds: float) -> float:
    reset_raw(url)

    def work(i, deadline):
        conn = psycopg2.connect(url)
        cur, n = conn.cursor(), 0
        while time.monotonic() < deadline:
            n += 1
            cur.execute(INSERT.replace("%s", "(%s, %s, %s, %s, now(), now(), %s)"),
                        (str(uuid.uuid4()), f"raw-{i}-{n}", 1, "deal.contact_logged", PAYLOAD))
            conn.commit()
        conn.close()
        return n
    return run_threads(clients, seconds, work) / seconds


def raw_batch_rate(url: str, batches: int, size: int) -> float:
    reset_raw(url)
    conn = psycopg2.connect(url)
    cur = conn.cursor()
    started = time.perf_counter()
    for b in range(batches):
        rows = [(str(uuid.uuid4()), f"rawb-{b}-{i}", 1, "deal.contact_logged", PAYLOAD) for i in range(size)]
        execute_values(cur, INSERT, rows, template="(%s, %s, %s, %s, now(), now(), %s)", page_size=size)
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return batches * size / elapsed


def eventsourcing_rate(socket_dir: str, dbname: str, clients: int, seconds: float) -> float:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    datastore = PostgresDatastore(dbname=dbname, host=socket_dir, port=5432, user="postgres",
                                  password="", pool_size=clients, max_overflow=0)
    recorder = PostgresApplicationRecorder(datastore, events_table_name="es_bench_events")
    recorder.create_table()

    def work(i, deadline):
        n = 0
        while time.monotonic() < deadline:
            n += 1
            recorder.insert_events([StoredEvent(originator_id=uuid.uuid4(), originator_version=1,
                                                topic="deal.contact_logged", state=PAYLOAD.encode())])
        return n
    rate = run_threads(clients, seconds, work) / seconds
    datastore.close()
    return rate


def raw_produce_rate(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes, list]]) -> float:
    """The relay's messages (key, value, headers), produced as fast as kafka-python can."""
    from events.broker import ensure_topic, make_producer
    ensure_topic(bootstrap, topic, 6)
    producer = make_producer(bootstrap)
    started = time.perf_counter()
    for key, value, headers in messages:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return len(messages) / elapsed


def raw_scan_seconds(url: str) -> float:
    """Every event, in stream order, its jsonb parsed in Python: the floor for a rebuild."""
    conn = psycopg2.connect(url)
    started = time.perf_counter()
    with conn, conn.cursor(name="raw_scan") as cur:
        cur.itersize = 20_000
        cur.execute("SELECT deal_id, type, occurred_at, data::text FROM events.event "
                    "ORDER BY deal_id, stream_version")
        for row in cur:
            json.loads(row[3])
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


NAIVE = {
    "funnel": """SELECT s.stage, count(DISTINCT e.deal_id) FROM events.event e
        JOIN LATERAL (SELECT coalesce(e.data->>'to_stage', e.data->>'stage') AS stage) s ON true
        WHERE e.type IN ('deal.created', 'deal.stage_moved', 'deal.reopened') GROUP BY s.stage""",
    "cycle-time": """SELECT count(*), avg(d), percentile_cont(ARRAY[0.5,0.75,0.9]) WITHIN GROUP (ORDER BY d) FROM (
        SELECT extract(epoch FROM max(s.occurred_at) - min(c.occurred_at)) / 86400 AS d
        FROM events.event s JOIN events.event c ON c.deal_id = s.deal_id AND c.type = 'deal.created'
        WHERE s.type = 'deal.signed' GROUP BY s.deal_id) x""",
    "performance": """SELECT c.data->>'owner_id', count(*), sum((s.data->>'amount')::numeric)
        FROM events.event s JOIN events.event c ON c.deal_id = s.deal_id AND c.type = 'deal.created'
        WHERE s.type = 'deal.signed' AND s.occurred_at >= make_date(%(year)s, 1, 1)
          AND s.occurred_at < make_date(%(year)s + 1, 1, 1)
        GROUP BY 1""",
}


def naive_seconds(url: str, report: str, year: int, runs: int = 3) -> list[float]:
    conn = psycopg2.connect(url)
    times = []
    with conn, conn.cursor() as cur:
        for _ in range(runs):
            started = time.perf_counter()
            cur.execute(NAIVE[report], {"year": year})
            cur.fetchall()
            times.append(time.perf_counter() - started)
    conn.close()
    return times
