"""`dealtrail watch`: the loop's clock. Every few seconds it
- opens a `review.opened` (trigger=deviation) for each target whose actual fell below pace by
  more than the threshold after a quarter of its period — once per target and period: the
  review's stream id is derived from the target, so a second attempt (another watcher, a
  restart) finds the review already there;
- opens one `review.opened` (trigger=stalled) per rep and month past the stalled level;
- takes the forecast snapshot of the current month, quarter and year for the company, each
  team and each rep (marked partial when taken after the period started);
- extends the ledger's Merkle tree and records a signed digest, published to Kafka
  `dealtrail.digests` (services.digests; every DEALTRAIL_DIGEST_SECONDS, when given a key).
Each duty, and each item within a duty, stands alone: one that fails is logged and retried
next round while the others go on. Reviews are opened once by their derived id, whatever their
figures say by the time a second round sees them.
Rebuilding projections never runs this, so rebuilds never emit events."""
import hashlib
import logging
import threading
import uuid
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import Engine

from domain.errors import IdempotencyConflict, ReviewExists
from events import store, streams
from events.schema import EVENT_MODELS
from projections.reports import due, forecast
from services import origins
from services.appending import Command, append_events
from services.bootstrap import record_loop_settings

log = logging.getLogger("dealtrail.watch")
NAMESPACE = uuid.UUID("5f0c3a52-8f7e-4a4e-9c61-3f1f2f0d7a10")

def review_id_for(target_id: str) -> str:
    """The one review a target's deviation may open (md5 keeps it short and SQL-checkable)."""
    return "dev-" + hashlib.md5(target_id.encode()).hexdigest()


def check_deviations(engine: Engine, now: datetime, threshold: Decimal, currency: str) -> list[str]:
    with engine.connect() as conn:
        rows = due.deviating_targets(conn, now, threshold)

    def opened(row) -> bool:
        return _open_review(engine, row, currency)
    return [row["target_id"] for row in rows if _isolated("deviation", row["target_id"], opened, row)]


def _open_review(engine: Engine, row, currency: str) -> bool:
    data = {"trigger": "deviation", "scope": row["scope"], "scope_id": row["scope_id"],
            "period": row["period"], "metric": row["metric"], "expected": str(round(row["pace"], 4)),
            "actual": str(round(Decimal(row["actual"]), 4)),
            "notes": f"target {row['value']} ({row['target_id']}); status {row['status']}"}
    return _append_review(engine, review_id_for(row["target_id"]), data, currency)


def _isolated(duty: str, item: str, fn, *args) -> bool:
    """`fn(*args)`, with a failure logged (naming the duty and the item) instead of raised, so
    one bad item never stops the rest of the round; it is retried next round."""
    try:
        return fn(*args)
    except Exception:
        log.exception("%s: %s failed; the others go on, it is retried next round", duty, item)
        return False


def _append_review(engine: Engine, review_id: str, data: dict, currency: str) -> bool:
    """Open review `review_id` unless it exists; True if this call opened it. Existence decides,
    not content: the figures (a stalled count, an actual) move between rounds, the id does not."""
    stream_id = streams.stream_id(streams.Kind.REVIEW, review_id)
    with engine.connect() as conn:
        if store.read_head(conn, stream_id) is not None:
            return False
    event = EVENT_MODELS["review.opened"].model_validate({
        "type": "review.opened", "event_id": str(uuid.uuid5(NAMESPACE, review_id)), "data": data})
    ctx = store.Context(actor=origins.WATCH_ACTOR, source=origins.WATCH_SOURCE, correlation_id=review_id)
    try:
        [result] = append_events(engine, [Command(stream_id, event)], ctx, currency=currency)
    except (ReviewExists, IdempotencyConflict):  # another watcher opened it since the check
        return False
    if result.created:
        log.info("%s: opened review %s", data["trigger"], review_id)
    return result.created


def check_stalled(engine: Engine, now: datetime, level: int, currency: str) -> list[str]:
    """One `review.opened` (trigger=stalled) per rep and month once their stalled deals reach `level`."""
    if level <= 0:
        return []
    period = f"{now.year}-{now.month:02d}"
    with engine.connect() as conn:
        rows = due.stalled_reps(conn, level)
    def open_one(owner_id: str, stalled: int) -> bool:
        review_id = "stalled-" + hashlib.md5(f"{owner_id}|{period}".encode()).hexdigest()
        data = {"trigger": "stalled", "scope": "rep", "scope_id": owner_id, "period": period,
                "metric": "stalled_deals", "expected": str(level - 1), "actual": str(stalled),
                "notes": f"{stalled} stalled deals (review level {level})"}
        return _append_review(engine, review_id, data, currency)
    return [owner for owner, n in rows if _isolated("stalled", f"rep {owner}", open_one, owner, n)]


def current_periods(now: datetime) -> list[str]:
    """The month, quarter and year `now` falls in."""
    return [f"{now.year}-{now.month:02d}", f"{now.year}-Q{(now.month - 1) // 3 + 1}", str(now.year)]


def take_snapshots(engine: Engine, now: datetime) -> int:
    """The forecast of the current month, quarter and year for the company, each team and each
    rep, taken once per period (the first round of the period, i.e. at its start; one taken
    later, e.g. on a fresh install, is marked partial). Each in its own transaction."""
    with engine.connect() as conn:
        scopes = due.snapshot_scopes(conn)
        done = due.snapshots_taken(conn, current_periods(now))
    pending = [(p, *scope) for p in current_periods(now) for scope in scopes if (p, *scope) not in done]
    return sum(_isolated("snapshot", " ".join(item), _snapshot, engine, item, now) for item in pending)


def _snapshot(engine: Engine, item: tuple[str, str, str], now: datetime) -> bool:
    with engine.begin() as conn:
        return forecast.snapshot(conn, *item, now)


def run_round(engine: Engine, now: datetime, *, threshold: Decimal, currency: str,
              stalled_level: int = 0, digests=None) -> dict:
    """One round of every duty; a duty that fails is logged and reported as None.
    `digests` is a services.digests.DigestDuty (None: no digest duty)."""
    duties = {"deviations": lambda: check_deviations(engine, now, threshold, currency),
              "stalled": lambda: check_stalled(engine, now, stalled_level, currency),
              "snapshots": lambda: take_snapshots(engine, now)}
    if digests is not None:
        duties["digest"] = lambda: digests(engine, now)
    done = {}
    for name, duty in duties.items():
        try:
            done[name] = duty()
        except Exception:
            log.exception("%s failed this round; the other duties go on", name)
            done[name] = None
    return done


def run(engine: Engine, stop: threading.Event, *, threshold: Decimal, currency: str,
        stalled_level: int = 0, every_seconds: float = 30.0, digests=None) -> None:
    record_loop_settings(engine, threshold)  # the view judges targets as this watcher does
    while not stop.is_set():
        run_round(engine, datetime.now(timezone.utc), threshold=threshold, currency=currency,
                  stalled_level=stalled_level, digests=digests)
        stop.wait(every_seconds)
