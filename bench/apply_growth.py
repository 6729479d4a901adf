"""Does live apply stay flat as the log grows (SPEC §7)? Applies the log in position order, in
poll-sized pages, as the worker does (without Kafka), and prints the rate per tenth of the log
and the time spent keeping the aggregates (projections.sums.deltas.apply_changes) per tenth.
`python -m bench.apply_growth --events 300000`."""
import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.load import load
from infra.db import make_engine
from infra.embedded import EmbeddedPostgres
from infra.migrate import upgrade
from projections import sales_projection as sales
from projections.sums import deltas as aggregates

PAGE = 2000


class Timed:
    """Wraps aggregates.apply_changes and adds up the time spent in it."""

    def __init__(self, fn):
        self.fn, self.seconds = fn, 0.0

    def __call__(self, *args):
        started = time.perf_counter()
        try:
            return self.fn(*args)
        finally:
            self.seconds += time.perf_counter() - started


def apply_log(engine, timed: Timed) -> list[tuple[float, float]]:
    """(events/s, aggregate seconds) per tenth of the log."""
    with engine.connect() as conn:
        log = conn.execute(text("SELECT deal_id, position FROM events.event ORDER BY position")).all()
    tenths, tenth = [], max(1, len(log) // 10)
    started, spent, done = time.perf_counter(), timed.seconds, 0
    for i in range(0, len(log), PAGE):
        page = log[i:i + PAGE]
        with engine.begin() as conn:
            sales.apply(conn, "read_models", dict(page))
        done += len(page)
        if done >= tenth or i + PAGE >= len(log):
            now = time.perf_counter()
            tenths.append((done / (now - started), timed.seconds - spent))
            started, spent, done = now, timed.seconds, 0
    return tenths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    args = parser.parse_args()
    timed = Timed(aggregates.apply_changes)
    aggregates.apply_changes = timed
    with tempfile.TemporaryDirectory(prefix="dealtrail-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp), database="bench")
        url = pg.start()
        try:
            upgrade(url)
            engine = make_engine(url, app_role="dealtrail_app", pool_size=2)
            count = load(url, args.events)
            started = time.perf_counter()
            tenths = apply_log(engine, timed)
            total = time.perf_counter() - started
            print(f"applied {count:,} events at {count / total:,.0f} events/s; aggregates {timed.seconds:.1f}s "
                  f"of {total:.1f}s ({100 * timed.seconds / total:.0f}%)")
            print("events/s per tenth of the log:  ", " ".join(f"{r:,.0f}" for r, _ in tenths))
            print("aggregate seconds per tenth:    ", " ".join(f"{s:.2f}" for _, s in tenths))
            engine.dispose()
        finally:
            pg.stop()


if __name__ == "__main__":
    main()
