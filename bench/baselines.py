"""What Dealtrail is compared against: raw PostgreSQL inserts of the same rows (no logic),
the `eventsourcing` library's Postgres recorder (a peer), raw kafka-python produce, a raw scan
of the log with jsonb parsing, and the naive SQL over raw events a BI user would write."""
import json
import threading
import time
import uuid

import psycopg2
from psycopg2.extras import execute_values

from domain.pipelines import DEFAULT_PIPELINE

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


# What a BI user writes for the same answers from raw events: voided events left out, stages
# folded in business order (occurred_at, stream_version), final close, per-stage dwell summed
# over visits (tests/integration/test_report_paths.py checks these equal the reports).
_NAIVE_STEPS = """
WITH ev AS (
    SELECT e.deal_id, e.type, e.occurred_at, e.stream_version, e.data FROM events.event e
    WHERE e.type IN ('deal.created', 'deal.stage_moved', 'deal.reopened', 'deal.signed', 'deal.lost')
      AND NOT EXISTS (SELECT 1 FROM events.event v WHERE v.type = 'event.voided'
                      AND v.deal_id = e.deal_id AND v.data->>'event_id' = e.event_id::text)),
steps AS (
    SELECT deal_id, type, occurred_at,
           CASE type WHEN 'deal.created' THEN coalesce(data->>'stage', 'lead') WHEN 'deal.signed' THEN 'won'
                     WHEN 'deal.lost' THEN 'lost' ELSE data->>'to_stage' END AS stage,
           lead(occurred_at) OVER (PARTITION BY deal_id ORDER BY occurred_at, stream_version) AS left_at,
           row_number() OVER (PARTITION BY deal_id ORDER BY occurred_at DESC, stream_version DESC) AS from_end
    FROM ev)"""
_REACHED = ", ".join(f"count(*) FILTER (WHERE last_stage = 'won' OR furthest >= {k + 1})"
                     for k in range(len(DEFAULT_PIPELINE.keys)))
_ENTERED = ", ".join(f"count(*) FILTER (WHERE '{s}' = ANY(stages))" for s in DEFAULT_PIPELINE.keys)
NAIVE = {
    "funnel": _NAIVE_STEPS + f""",
deals AS (
    SELECT deal_id, max(array_position(ARRAY{list(DEFAULT_PIPELINE.keys)}, stage)) AS furthest,
           min(stage) FILTER (WHERE from_end = 1) AS last_stage, array_agg(DISTINCT stage) AS stages
    FROM steps GROUP BY deal_id)
SELECT count(*), count(*) FILTER (WHERE last_stage = 'won'), count(*) FILTER (WHERE last_stage = 'lost'),
       ARRAY[{_REACHED}], ARRAY[{_ENTERED}]
FROM deals""",
    "cycle-time": _NAIVE_STEPS + """,
closed AS (
    SELECT s.deal_id, extract(epoch FROM s.occurred_at - c.occurred_at) / 86400 AS cycle_days
    FROM steps s JOIN steps c ON c.deal_id = s.deal_id AND c.type = 'deal.created'
    WHERE s.from_end = 1 AND s.stage = 'won'),
dwell AS (
    SELECT s.stage, s.deal_id, sum(extract(epoch FROM s.left_at - s.occurred_at)) / 86400 AS dwell_days
    FROM steps s JOIN closed USING (deal_id)
    WHERE s.stage NOT IN ('won', 'lost') AND s.left_at IS NOT NULL GROUP BY 1, 2)
SELECT NULL, count(*), avg(cycle_days), percentile_cont(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY cycle_days)
FROM closed
UNION ALL
SELECT stage, count(*), avg(dwell_days), percentile_cont(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY dwell_days)
FROM dwell GROUP BY stage""",
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
