"""Projection benchmarks of SPEC §7: rebuild vs a raw scan with jsonb parsing, live apply
through Kafka vs raw kafka-python consume, report latency vs naive SQL over raw events, and
append-to-visible latency at a steady rate. `python -m bench.projections --events 1000000`."""
import argparse
import json
import statistics
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import text

from events import store
from events.broker import ensure_topic
from events.log_reader import settled_horizon
from domain.pipelines import DEFAULT_PIPELINE
from events.relay import Relay, RelayConfig
from events.schema import event_adapter
from infra.db import make_engine
from infra.embedded import EmbeddedBroker, EmbeddedPostgres
from infra.migrate import upgrade
from projections import checkpoints, rebuild, sales
from projections.reports import cycle_time, funnel, performance
from projections.schema import AGGREGATE_TABLES, BOOKKEEPING_TABLES, DEAL_TABLES
from projections.worker import Worker
from services.appending import Command, append_events
from services.demo import generate

CTX = store.Context(actor="bench", source="/bench")

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
        WHERE s.type = 'deal.signed' AND s.occurred_at >= :start AND s.occurred_at < :end
        GROUP BY 1""",
}


def load(engine, events: int) -> int:
    end = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    batch, total = [], 0
    for item in generate(events // 10 + 1, 42, end):
        deal_id = item.pop("deal_id")
        batch.append(Command(deal_id, event_adapter.validate_python(item)))
        if len(batch) == 10_000:
            total += len(append_events(engine, batch, CTX, currency="USD", batch=True))
            batch = []
        if total >= events:
            break
    if batch:
        total += len(append_events(engine, batch, CTX, currency="USD", batch=True))
    return total


def raw_scan_seconds(engine, upto: int) -> float:
    raw = engine.raw_connection()
    started = time.perf_counter()
    cur = raw.cursor(name="raw_scan")
    cur.itersize = 20_000
    cur.execute("SELECT deal_id, type, occurred_at, data::text FROM events.event WHERE position <= %s "
                "ORDER BY deal_id, stream_version", (upto,))
    for row in cur:
        json.loads(row[3])
    elapsed = time.perf_counter() - started
    raw.close()
    return elapsed


def live_apply(engine, owner, bootstrap: str, count: int) -> tuple[float, float]:
    """(worker events/s from an empty projection, raw consume msgs/s) on the same topic."""
    stop = threading.Event()
    relay = Relay(engine, RelayConfig(bootstrap=bootstrap, topic="bench.live", name="bench-live"))
    relay_thread = threading.Thread(target=relay.run, args=(stop,))
    relay_thread.start()
    horizon = settled_horizon(engine)
    while relay.position < horizon:
        time.sleep(0.05)
    stop.set()
    relay_thread.join()
    with owner.begin() as conn:
        emptied = ("deal_current", *DEAL_TABLES, *AGGREGATE_TABLES, "projection_checkpoint", *BOOKKEEPING_TABLES)
        conn.execute(text(f"TRUNCATE {', '.join(f'read_models.{t}' for t in emptied)}"))
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    tps = [TopicPartition("bench.live", p) for p in consumer.partitions_for_topic("bench.live")]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    started, seen = time.perf_counter(), 0
    while seen < count:
        seen += sum(len(v) for v in consumer.poll(timeout_ms=500, max_records=5000).values())
    raw_rate = seen / (time.perf_counter() - started)
    consumer.close()
    stop = threading.Event()
    worker = Worker(engine, bootstrap, "bench.live", group="bench-live")
    thread = threading.Thread(target=worker.run, args=(stop,))
    started = None
    thread.start()
    while True:
        with engine.connect() as conn:
            applied = checkpoints.applied_through(conn, sales.NAME)
        if applied and started is None:
            started, first = time.perf_counter(), applied
        if applied >= horizon:
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    with engine.connect() as conn:
        done = conn.execute(text("SELECT count(*) FROM events.event WHERE position > :f"), {"f": first}).scalar()
    return done / elapsed, raw_rate


def report_latency(engine, runs: int = 100) -> list[tuple[str, float, float]]:
    ours = {
        "funnel": lambda c: funnel.cohort(c, DEFAULT_PIPELINE, "read_models", None, None,
                                          owner_id=None, team_id=None, segment=None),
        "cycle-time": lambda c: cycle_time.cycle_time(c, DEFAULT_PIPELINE, "read_models", "won", None, None,
                                                      owner_id=None, team_id=None, segment=None),
        "performance": lambda c: performance.performance(c, "read_models", str(datetime.now().year), "rep"),
    }
    year = datetime.now().year
    params = {"start": datetime(year, 1, 1, tzinfo=timezone.utc), "end": datetime(year + 1, 1, 1, tzinfo=timezone.utc)}
    out = []
    with engine.connect() as conn:
        for name, fn in ours.items():
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                fn(conn)
                times.append(time.perf_counter() - t)
            naive = []
            for _ in range(3):
                t = time.perf_counter()
                conn.execute(text(NAIVE[name]), params).all()
                naive.append(time.perf_counter() - t)
            out.append((name, sorted(times)[int(0.99 * (runs - 1))] * 1000, statistics.median(naive) * 1000))
    return out


def visible_latency(engine, bootstrap: str, rate: int, seconds: float) -> list[float]:
    stop = threading.Event()
    relay = threading.Thread(target=Relay(engine, RelayConfig(bootstrap=bootstrap, topic="bench.lat",
                                                              name="bench-lat", poll_seconds=0.02)).run, args=(stop,))
    worker = threading.Thread(target=Worker(engine, bootstrap, "bench.lat", group="bench-lat").run, args=(stop,))
    with engine.begin() as conn:  # start both at the head: measure new events only
        conn.execute(text("DELETE FROM read_models.projection_checkpoint"))
        conn.execute(text("INSERT INTO read_models.projection_checkpoint VALUES ('sales', -1, "
                          "(SELECT max(position) FROM events.event), now())"))
        conn.execute(text("INSERT INTO events.relay_checkpoint (relay, position) "
                          "VALUES ('bench-lat', (SELECT max(position) FROM events.event))"))
    ensure_topic(bootstrap, "bench.lat", 6)  # else the relay would treat it as lost and republish
    relay.start()
    worker.start()
    time.sleep(5)  # group join
    deals = [f"lat-{i}" for i in range(50)]
    append_events(engine, [Command(d, event_adapter.validate_python({"type": "deal.created", "data": {
        "title": d, "customer": {"id": d, "name": d}, "owner_id": "r"}})) for d in deals], CTX, currency="USD", batch=True)
    contact = event_adapter.validate_python({"type": "deal.contact_logged", "data": {"channel": "call"}})
    sent: dict[tuple[str, int], float] = {}
    seen: dict[tuple[str, int], float] = {}
    done = threading.Event()

    def observe():
        while not done.is_set() or len(seen) < len(sent):
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT deal_id, version FROM read_models.deal_current "
                                         "WHERE deal_id LIKE 'lat-%'")).all()
            now = time.perf_counter()
            for key in list(sent):
                if key not in seen and any(d == key[0] and v >= key[1] for d, v in rows):
                    seen[key] = now
            time.sleep(0.01)
            if done.is_set() and time.perf_counter() - stop_at > 10:
                return
    stop_at = float("inf")
    observer = threading.Thread(target=observe)
    observer.start()
    interval, n, start = 1 / rate, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        deal = deals[n % len(deals)]
        [r] = append_events(engine, [Command(deal, contact)], CTX, currency="USD")
        sent[(deal, r.envelope.stream_version)] = time.perf_counter()
        n += 1
        time.sleep(max(0.0, start + n * interval - time.perf_counter()))
    stop_at = time.perf_counter()
    done.set()
    observer.join()
    stop.set()
    relay.join()
    worker.join()
    return sorted(seen[k] - sent[k] for k in seen)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dealtrail-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp), database="bench")
        url = pg.start()
        broker = EmbeddedBroker()
        bootstrap = broker.start()
        upgrade(url)
        engine = make_engine(url, app_role="dealtrail_app", pool_size=8)
        owner = make_engine(url, pool_size=4)
        try:
            t = time.perf_counter()
            count = load(engine, args.events)
            print(f"loaded {count:,} events through the store in {time.perf_counter() - t:.1f}s")
            upto = settled_horizon(engine)
            rss0 = psutil.Process().memory_info().rss
            t = time.perf_counter()
            rebuild.rebuild(owner)
            rebuild_s = time.perf_counter() - t
            rss1 = psutil.Process().memory_info().rss
            scan_s = raw_scan_seconds(engine, upto)
            print(f"\nrebuild of {count:,} events: {rebuild_s:.1f}s  (raw scan with jsonb parsing: {scan_s:.1f}s, "
                  f"ratio {rebuild_s / scan_s:.1f}x; target <= 30s for 1M; RSS growth {(rss1 - rss0) / 2**20:.0f} MB)")
            for name, ours, naive in report_latency(engine):
                print(f"report {name:<12} p99 {ours:7.1f} ms   naive SQL over events {naive:8.1f} ms   "
                      f"speed-up {naive / ours:6.1f}x  (targets: p99 <= 50 ms, >= 20x)")
            worker_rate, raw_rate = live_apply(engine, owner, bootstrap, count)
            print(f"live apply, 1 worker: {worker_rate:,.0f} events/s   raw kafka-python consume: "
                  f"{raw_rate:,.0f} msgs/s   (target >= 5,000 events/s per worker)")
            lat = visible_latency(engine, bootstrap, 500, 10)
            if lat:
                print(f"append -> visible in deal_current at 500 ev/s: p50 {lat[len(lat) // 2] * 1000:.0f} ms, "
                      f"p99 {lat[int(0.99 * (len(lat) - 1))] * 1000:.0f} ms over {len(lat)} events (target p99 <= 1 s)")
            print(f"bench process RSS: {psutil.Process().memory_info().rss / 2**20:.0f} MB")
        finally:
            broker.stop()
            pg.stop()


if __name__ == "__main__":
    main()
