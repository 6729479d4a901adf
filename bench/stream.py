"""The Kafka side, with `dealtrail relay` and `dealtrail project` as separate processes: relay
publish rate, live apply rate (from the projection watermark), append -> visible latency."""
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from bench.load import CTX
from bench.procs import wait_until
from bench.table import window_rate
from events.schema import event_adapter
from infra.array_text import array_text
from services.appending import Command, append_events


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def head(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(position), 0) FROM events.event")).scalar()


def relay_position(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(position), 0) FROM events.relay_checkpoint")).scalar()


def applied(engine) -> int:
    """Events the projection has applied: each deal's row carries the stream version of its
    latest applied event. (The watermark would understate a catch-up: it waits for the slowest
    partition.)"""
    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(sum(version), 0) FROM read_models.deal_current")).scalar()


def applied_of(engine, deal_ids: list[str]) -> int:
    """`applied` for the deals a phase appends to (their rows' stream versions, by primary key).
    At 1M events a scan of deal_current costs ~36 ms per sample, ~7% of a core on this 2-core
    machine at one sample per 0.5 s, taken from the worker it measures."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(sum(version), 0) FROM read_models.deal_current "
                                 "WHERE deal_id = ANY(CAST(:ids AS text[]))"), {"ids": array_text(deal_ids)}).scalar()


def appended_to(engine, prefix: str) -> tuple[list[str], int]:
    """The deals whose ids start with `prefix`, and how many events they hold."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT deal_id, version FROM events.stream_head WHERE starts_with(deal_id, :p)"),
                            {"p": prefix}).all()
    return [deal_id for deal_id, _ in rows], sum(version for _, version in rows)


def follow(progress, target: int, budget: float, label: str, interval: float = 0.5) -> list[tuple[float, int]]:
    """(seconds, position) samples of `progress()` until it reaches `target` or `budget` runs out."""
    started, samples, said = time.monotonic(), [], 0.0
    while True:
        now, position = time.monotonic() - started, progress()
        samples.append((now, position))
        if position >= target or now > budget:
            return samples
        if now - said >= 15:
            log(f"{label}: {position:,} of {target:,} after {now:.0f}s")
            said = now
        time.sleep(interval)


def moving_rate(samples: list[tuple[float, int]]) -> float | None:
    """Events/s from the first sample that moved past the start to the last one (startup and
    group join left out)."""
    return window_rate(samples, samples[0][1] + 1, samples[-1][1]) if samples else None


def reset_relay_to_head(owner, engine) -> int:
    """Let the next relay start at the head on a fresh topic (as a newly deployed relay would):
    what follows measures new events only."""
    position = head(engine)
    with owner.begin() as conn:
        conn.execute(text("UPDATE events.relay_checkpoint SET position = :p, partition_offsets = '{}', "
                          "topic_id = NULL"), {"p": position})
    return position


def visible_latency(engine, rate: int, seconds: float, threads: int = 16) -> tuple[list[float], int, float]:
    """Append one event per call at `rate`/s (open loop: calls are started on schedule from a
    pool, whatever earlier ones cost); (seconds from each call's start until deal_current
    showed its event, for those seen; how many were appended; the rate reached)."""
    deals = [f"lat-{i}" for i in range(50)]
    append_events(engine, [Command(d, event_adapter.validate_python({"type": "deal.created", "data": {
        "title": d, "customer": {"id": d, "name": d}, "owner_id": "rep-1"}})) for d in deals], CTX,
        currency="USD", batch=True)
    wait_until(lambda: _visible(engine, deals) == len(deals), 60)  # the worker has joined its group
    contact = event_adapter.validate_python({"type": "deal.contact_logged", "data": {"channel": "call"}})
    sent: list[tuple[str, int, float]] = []
    seen: dict[str, list[tuple[int, float]]] = {d: [] for d in deals}  # (version, first seen at)
    done = threading.Event()
    observer = threading.Thread(target=_observe, args=(engine, deals, seen, done))
    observer.start()

    def append(deal: str) -> None:
        at = time.perf_counter()
        [result] = append_events(engine, [Command(deal, contact)], CTX, currency="USD")
        sent.append((deal, result.envelope.stream_version, at))
    n, start = 0, time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        while time.perf_counter() - start < seconds:
            pool.submit(append, deals[n % len(deals)])
            n += 1
            time.sleep(max(0.0, start + n / rate - time.perf_counter()))
    reached = len(sent) / (time.perf_counter() - start)
    time.sleep(5)  # what is not visible 5 s after the last append counts as not seen
    done.set()
    observer.join()
    return [next(t for v, t in seen[d] if v >= version) - at for d, version, at in sent
            if any(v >= version for v, _ in seen[d])], len(sent), reached


def _visible(engine, deals: list[str]) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM read_models.deal_current WHERE deal_id = ANY(:ids)"),
                            {"ids": deals}).scalar()


def _observe(engine, deals, seen, done) -> None:
    query = text("SELECT deal_id, version FROM read_models.deal_current WHERE deal_id = ANY(:ids)")
    while not done.is_set():
        with engine.connect() as conn:
            rows = conn.execute(query, {"ids": deals}).all()
        now = time.perf_counter()
        for deal, version in rows:
            if not seen[deal] or seen[deal][-1][0] < version:
                seen[deal].append((version, now))
        time.sleep(0.01)
