"""Fill the log with realistic deals (services.demo.generate) through the store's batch append,
several loader processes at once, each on its own deals (deal number modulo loaders)."""
import multiprocessing
from datetime import datetime, timezone

from events import store
from events.schema import event_adapter
from infra.db import make_engine
from services.appending import Command, append_events
from services.demo import generate

CTX = store.Context(actor="bench", source="/bench")
BATCH = 5000


def _loader(url: str, quota: int, index: int, loaders: int, seed: int, prefix: str) -> int:
    engine = make_engine(url, app_role="dealtrail_app", pool_size=1)
    end = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    batch, total = [], 0
    for item in generate(quota * loaders // 8 + 100, seed, end):
        deal_id = item.pop("deal_id")
        if int(deal_id.rsplit("-", 1)[1]) % loaders != index:
            continue
        batch.append(Command(prefix + deal_id, event_adapter.validate_python(item)))
        if len(batch) == BATCH or total + len(batch) >= quota:
            total += len(append_events(engine, batch, CTX, currency="USD", batch=True))
            batch = []
            if total >= quota:
                break
    if batch:
        total += len(append_events(engine, batch, CTX, currency="USD", batch=True))
    engine.dispose()
    return total


def load(url: str, events: int, loaders: int = 2, seed: int = 42, prefix: str = "") -> int:
    """Append about `events` events; returns how many were appended."""
    quotas = [events // loaders + (i < events % loaders) for i in range(loaders)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(loaders) as pool:
        return sum(pool.starmap(_loader, [(url, q, i, loaders, seed, prefix) for i, q in enumerate(quotas)]))
