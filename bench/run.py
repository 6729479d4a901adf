"""Every SPEC §7 figure in one run, each beside a baseline measured in the same run on the same
embedded PostgreSQL and broker: `make bench` (1M events, <= 15 min on 2 cores) or
`python -m bench.run --quick`. Progress on stderr, one table on stdout; asserts nothing.
Slow phases have time budgets: what does not finish is reported as far as it got."""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import traceback
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from bench import api_load, baselines, e2e, procs, stream
from bench.load import load
from bench.stream import log
from bench.table import Row, as_json, at_least, at_most, both, format_table, number, percentile, ratio, window_rate
from events.broker import ensure_topic
from events.log_reader import read_committed
from events.relay import message_headers
from infra.db import make_engine
from infra.embedded import EmbeddedBroker, EmbeddedPostgres, free_port, wait_for_port


@dataclass(frozen=True)
class Plan:
    events: int = 1_000_000
    minutes: float = 14.5        # the whole run; budgets shrink if loading took longer than planned
    unbudgeted: float = 200      # seconds the phases without a budget take after loading, about
    seconds: float = 10          # each HTTP append run and its baselines
    batches: int = 20            # of 1,000 events, ours and raw
    tail: int = 60_000           # new events on top of the full log (~12 s: a poll, ~2,000 events, is a few % of it)
    visible_seconds: float = 10
    report_runs: int = 100
    as_of_runs: int = 30
    e2e_events: int = 30_000
    budgets: dict = field(default_factory=lambda: {  # seconds at most, before shrinking
        "relay": 75, "catch_up": 120, "rebuild": 150, "tail": 45, "as_of": 45, "e2e": 75})


QUICK = Plan(events=50_000, minutes=5, unbudgeted=60, seconds=3, batches=5, tail=5000, visible_seconds=5,
             report_runs=30, as_of_runs=6, e2e_events=10_000,
             budgets={"relay": 30, "catch_up": 30, "rebuild": 60, "tail": 30, "as_of": 20, "e2e": 60})

FIXED = ("rebuild", "tail")  # budgets that do not shrink


class Bench:
    def __init__(self, plan: Plan, tmp: Path, url: str, bootstrap: str):
        self.plan, self.tmp, self.url, self.bootstrap = plan, tmp, url, bootstrap
        self.deadline, self.scale = time.monotonic() + plan.minutes * 60, 1.0
        self.owner = make_engine(url, pool_size=2)
        self.engine = make_engine(url, app_role="dealtrail_app", pool_size=20)
        self.rows: list[Row] = []
        self.api = self.relay = self.worker = None
        self.headers: dict[str, str] = {}
        self.rebuild_failed = ""
        self.raw_single = self.peer = None  # the HTTP append phase's baselines

    def budget(self, phase: str) -> float:
        """The rebuild's and the tail's do not shrink: the reports read what the rebuild builds,
        and a worker needs some seconds to join its group before the tail shows a rate."""
        return self.plan.budgets[phase] * (1.0 if phase in FIXED else self.scale)

    def service(self, command: str, topic: str = "dealtrail.events", *extra: str):
        env = {"DATABASE_URL": self.url, "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "DEALTRAIL_TOPIC": topic}
        return procs.cli([command, *extra], env, self.tmp / f"{command}.log")

    def stop_services(self) -> None:
        for proc in (self.worker, self.relay, self.api):
            procs.stop(proc)
        self.api = self.relay = self.worker = None

    def setup(self) -> None:
        from services import keys
        migrate = self.service("migrate")
        assert migrate.wait() == 0, "dealtrail migrate failed"
        _, secret = keys.create(self.owner, f"bench-{os.getpid()}", keys.Role.ADMIN)
        self.headers = {"Authorization": f"Bearer {secret}"}

    def start_api(self) -> None:
        port = free_port()
        self.api = self.service("api", "dealtrail.events", "--port", str(port), "--workers", "2")
        wait_for_port("127.0.0.1", port, 60, self.api)
        self.base = f"http://127.0.0.1:{port}"

    def fill(self) -> None:
        log(f"loading {self.plan.events:,} events (services.demo deals, append_events batch=True, 3 processes)")
        self.first = datetime.now(timezone.utc)
        started = time.perf_counter()
        self.count = load(self.url, self.plan.events, loaders=3)
        elapsed = time.perf_counter() - started
        self.last = datetime.now(timezone.utc)
        self.head = stream.head(self.engine)
        left = self.deadline - time.monotonic() - self.plan.unbudgeted
        fixed = sum(self.plan.budgets[p] for p in FIXED)
        self.scale = min(1.0, max(0.25, (left - fixed) / (sum(self.plan.budgets.values()) - fixed)))
        log(f"loaded {self.count:,} events in {elapsed:.0f}s; time budgets at {self.scale:.0%}")
        self.rows.append(Row("load: append_events(batch), 3 processes", self.count / elapsed, "ev/s",
                             note=f"{self.count:,} demo events in {elapsed:.0f}s (setup, no target)"))

    def relay_publish(self) -> None:
        page = read_committed(self.engine, 0, min(self.head, 50_000))
        messages = [(e.deal_id.encode(), e.to_json().encode(), message_headers(e)) for e in page.envelopes]
        raw = baselines.raw_produce_rate(self.bootstrap, "bench.raw", messages)  # before the relay runs
        del messages, page
        log(f"raw kafka-python producer: {raw:,.0f} msgs/s; relaying the log")
        self.relay = self.service("relay")
        samples = stream.follow(lambda: stream.relay_position(self.engine), self.head, self.budget("relay"), "relay")
        ours, reached = stream.moving_rate(samples), samples[-1][1]
        self.rows.append(Row("relay publish", ours, "ev/s", "raw kafka-python producer", raw, ratio(ours, raw),
                             ">= 0.7x raw", at_least(ratio(ours, raw), 0.7),
                             f"{reached:,} of {self.head:,} published in {samples[-1][0]:.0f}s"))

    def catch_up(self) -> None:
        log("live apply: one `dealtrail project` worker catching up from empty read models")
        self.worker = self.service("project")
        samples = stream.follow(lambda: stream.applied(self.engine), self.count, self.budget("catch_up"), "worker")
        mid, reached, spent = min(100_000, self.count // 5), samples[-1][1], samples[-1][0]
        low, high = mid // 2, min(mid * 3 // 2, reached)  # what the budget allowed of the window
        self.early = window_rate(samples, low, high)
        last = window_rate(samples, int(reached * 0.8), reached)
        self.rows.append(Row(f"live apply, 1 worker, at ~{mid // 1000}k applied", self.early, "ev/s",
                             target=">= 5,000 ev/s", ok=at_least(self.early, 5000),
                             note=f"window {low // 1000}k-{high // 1000}k; caught up {reached:,} of {self.count:,} "
                                  f"in {spent:.0f}s; last 20% of that at {last or 0:,.0f} ev/s"))
        self.stop_services()

    def rebuild(self) -> None:
        log(f"rebuild of all projections from {self.head:,} events (`dealtrail rebuild`)")
        started, proc, budget = time.perf_counter(), self.service("rebuild"), self.budget("rebuild")
        try:
            code = proc.wait(budget)
            failed = f"exit code {code}" if code else ""
        except subprocess.TimeoutExpired:
            procs.stop(proc)
            failed = f"not done in its {budget:.0f}s budget"
        ours, self.rebuild_failed = time.perf_counter() - started, failed
        scan = baselines.raw_scan_seconds(self.url)
        limit = 20 * self.head / 1_000_000
        self.rows.append(Row(f"rebuild from {self.head:,} events", None if failed else ours, "s",
                             "raw scan + jsonb parse", scan, ratio(ours, scan, lower_is_better=True),
                             f"<= {limit:.1f} s (20 s per 1M)", False if failed else at_most(ours, limit),
                             failed or "`dealtrail rebuild`, incl. process start"))

    def reports(self) -> None:
        year = datetime.now().year
        for name in api_load.REPORTS:
            log(f"report {name}: {self.plan.report_runs} requests, naive SQL x3")
            p99 = percentile(api_load.report_seconds(self.base, self.headers, name, self.plan.report_runs), 99)
            naive = statistics.median(baselines.naive_seconds(self.url, name, year))
            speed_up = ratio(p99, naive, lower_is_better=True)
            self.rows.append(Row(f"report {name}, p99", p99 * 1000, "ms", "naive SQL over events", naive * 1000,
                                 speed_up, "p99 <= 50 ms, >= 20x",
                                 both(at_most(p99, 0.050), at_least(speed_up, 20)),
                                 f"{self.plan.report_runs} requests, HTTP" + (
                                     "; read models partial: the rebuild was cut off" if self.rebuild_failed else "")))

    def tail_apply(self) -> None:
        log(f"live apply on the full log: {self.plan.tail:,} new events, relay and worker from the head")
        log_size = stream.reset_relay_to_head(self.owner, self.engine)
        ensure_topic(self.bootstrap, "bench.tail", 6)
        load(self.url, self.plan.tail, loaders=2, seed=7, prefix="tail-")
        deals, end = stream.appended_to(self.engine, "tail-")  # new deals: none of it applied yet
        self.relay, self.worker = self.service("relay", "bench.tail"), self.service("project", "bench.tail")
        samples = stream.follow(lambda: stream.applied_of(self.engine, deals), end, self.budget("tail"),
                                "worker (tail)")
        ours, flat = stream.moving_rate(samples), ratio(stream.moving_rate(samples), self.early)
        self.rows.append(Row(f"live apply, 1 worker, on the {log_size:,}-event log", ours, "ev/s",
                             "same worker, catching up", self.early, flat, ">= 5,000 ev/s, flat (>= 0.8x)",
                             both(at_least(ours, 5000), at_least(flat, 0.8)),
                             f"{samples[-1][1]:,} of {end:,} applied in {samples[-1][0]:.0f}s"))
        procs.stop(self.worker)
        procs.stop(self.relay)

    def visible(self) -> None:
        log(f"append -> visible in deal_current at 500 ev/s for {self.plan.visible_seconds:.0f}s "
            "(relay and worker from the head, on a topic of their own: no backlog ahead)")
        stream.reset_relay_to_head(self.owner, self.engine)
        ensure_topic(self.bootstrap, "bench.visible", 6)
        self.relay, self.worker = self.service("relay", "bench.visible"), self.service("project", "bench.visible")
        latencies, sent, reached = stream.visible_latency(self.engine, 500, self.plan.visible_seconds)
        p99 = percentile(latencies, 99) if len(latencies) == sent else None  # unseen ones: no p99
        p50 = percentile(latencies, 50)
        self.rows.append(Row("append -> visible in deal_current, 500 ev/s, p99", p99 and p99 * 1000, "ms",
                             target="p99 <= 1 s", ok=at_most(p99, 1.0) if p99 is not None else False,
                             note=f"{len(latencies):,} of {sent:,} seen within 5 s of the last append; "
                                  f"p50 {number(p50 and p50 * 1000, 'ms')}; appends reached {reached:,.0f}/s"))
        self.stop_services()

    def appends(self) -> None:
        self.start_api()
        clients, seconds = 32, self.plan.seconds
        log(f"HTTP append, {clients} clients, {seconds:.0f}s each: raw INSERT, Dealtrail, eventsourcing")
        raw = self.raw_single = baselines.raw_single_row_rate(self.url, clients, seconds)
        ours = api_load.append_rate(self.base, self.headers, clients, seconds)
        socket_dir = parse_qs(urlparse(self.url).query)["host"][0]
        peer = self.peer = baselines.eventsourcing_rate(socket_dir, "bench", clients, seconds)
        self.rows.append(Row(f"HTTP append, 1/request, {clients} clients", ours, "ev/s", "raw 1-row INSERT txns",
                             raw, ratio(ours, raw), ">= 0.5x raw", at_least(ratio(ours, raw), 0.5)))
        self.rows.append(Row("  same, vs the eventsourcing peer", ours, "ev/s", "eventsourcing recorder", peer,
                             ratio(ours, peer), ">= 5x peer", at_least(ratio(ours, peer), 5)))
        log(f"batch append: {self.plan.batches} x 1,000 events, raw execute_values then HTTP")
        raw = baselines.raw_batch_rate(self.url, self.plan.batches, 1000)
        ours = api_load.batch_rate(self.base, self.headers, self.plan.batches, 1000)
        self.rows.append(Row("batch append, 1,000/request", ours, "ev/s", "raw multi-row INSERT", raw,
                             ratio(ours, raw), ">= 0.5x raw", at_least(ratio(ours, raw), 0.5)))

    def as_of(self) -> None:
        budget = self.budget("as_of")
        log(f"reports as_of past moments: up to {self.plan.as_of_runs} requests in {budget:.0f}s")
        times, cut = api_load.as_of_seconds(self.base, self.headers, self.first, self.last,
                                            self.plan.as_of_runs, budget)
        p99 = percentile(times, 99)
        self.rows.append(Row("report with as_of (past moment), p99", p99 and p99 * 1000, "ms",
                             target="p99 <= 250 ms", ok=False if cut else at_most(p99, 0.25),
                             note=f"{len(times)} answered in the {budget:.0f}s budget"
                                  + (f"; the next one cut off after {cut:.0f}s" if cut else "")))
        self.stop_services()  # an as_of replay cut off by the budget must not load what follows

    def end_to_end(self) -> None:
        with e2e.up_instance(self.tmp) as (base, headers):
            log(f"batch append -> projected under `dealtrail up`: {self.plan.e2e_events:,} events over HTTP")
            rate, projected, spent = e2e.batch_to_projected(base, headers, self.plan.e2e_events, self.budget("e2e"))
            self.rows.append(Row("batch append -> projected, `dealtrail up`", rate, "ev/s", target=">= 5,000 ev/s",
                                 ok=at_least(rate, 5000) if rate else False,
                                 note=f"{projected:,} projected {spent:.0f}s after the first POST"))
            clients, seconds = 32, self.plan.seconds
            log(f"HTTP append under `dealtrail up`, {clients} clients, {seconds:.0f}s")
            ours = api_load.append_rate(base, headers, clients, seconds)
        note = "one API process, its relay and worker beside it; baselines from the HTTP append phase"
        self.rows.append(Row(f"HTTP append, 1/request, {clients} clients, `dealtrail up`", ours, "ev/s",
                             "raw 1-row INSERT txns", self.raw_single, ratio(ours, self.raw_single), ">= 0.5x raw",
                             at_least(ratio(ours, self.raw_single), 0.5), note))
        self.rows.append(Row("  same, vs the eventsourcing peer", ours, "ev/s", "eventsourcing recorder", self.peer,
                             ratio(ours, self.peer), ">= 5x peer", at_least(ratio(ours, self.peer), 5)))

    def memory(self, sampler: procs.RssSampler) -> None:
        for role, label in (("api", "API"), ("relay", "relay"), ("project", "worker")):
            peak = sampler.peak.get(role)
            note = f"all its processes together: {sampler.tree[role]:.0f} MB" if role == "api" and peak else ""
            self.rows.append(Row(f"peak RSS, {label} (one process)", peak, "MB", target="<= 300 MB",
                                 ok=at_most(peak, 300), note=note))
        peak = sampler.peak.get("rebuild")
        self.rows.append(Row("peak RSS, rebuild", peak, "MB", note="constant in memory: compare --quick"))


def run(plan: Plan, sampler: procs.RssSampler) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="dealtrail-bench-") as tmp, ExitStack() as stack:
        pg = EmbeddedPostgres(Path(tmp), database="bench")
        url = pg.start()
        stack.callback(pg.stop)
        broker = EmbeddedBroker()
        bootstrap = broker.start()
        stack.callback(broker.stop)
        log(f"embedded PostgreSQL {url}, broker {bootstrap}")
        bench = Bench(plan, Path(tmp), url, bootstrap)
        stack.callback(bench.stop_services)
        bench.setup()
        bench.fill()
        for phase in (bench.relay_publish, bench.catch_up, bench.rebuild, bench.start_api, bench.reports,
                      bench.tail_apply, bench.visible, bench.appends, bench.as_of, bench.end_to_end):
            try:
                phase()
            except Exception as exc:  # one broken phase must not cost the other figures
                log(f"{phase.__name__} failed:\n{traceback.format_exc()}")
                bench.rows.append(Row(phase.__name__, None, "", ok=False,
                                      note=f"failed: {exc.__class__.__name__}: {str(exc)[:80]}"))
        bench.memory(sampler)
        return bench.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, help="events in the log (default 1,000,000; --quick: 50,000)")
    parser.add_argument("--quick", action="store_true", help="a small smoke run (about 3 minutes)")
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    args = parser.parse_args()
    plan = QUICK if args.quick else Plan()
    plan = replace(plan, events=args.events or plan.events)
    started = time.monotonic()
    sampler = procs.RssSampler()
    sampler.start()
    rows = run(plan, sampler)
    sampler.close()
    wall = time.monotonic() - started
    print(format_table(rows))
    print(f"\n{plan.events:,} events, wall time {wall / 60:.1f} min, {os.cpu_count()} cores, "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; ratio = times better than the baseline")
    if args.json:
        args.json.write_text(json.dumps(as_json(rows, events=plan.events, wall_seconds=round(wall),
                                                quick=args.quick, at=datetime.now(timezone.utc).isoformat()),
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()
