"""What every open event stream of one API process shares: one poll of the log's head, one
small pool of threads for their reads, one read of each page of the log, and the per-key count
of open streams.

Each stream used to poll the database itself twice a second: 200 idle streams were 400 queries
a second through the threads sync routes answer on, and a simple GET waited behind them. Now
one task polls the head while streams wait, and wakes them when it moves; their reads run on
their own `CapacityLimiter` (a few threads), so streams can slow only each other.

When the head moved, every stream at the same position used to read the same new page itself:
200 identical queries (and 200 JSON encodings of each event) per post. `shared` lets the streams
that ask for the same page while it is being read (or just after) share one read; a simple GET's
p50 beside 200 streams sending went from ~11 ms to ~6.5 ms (median of 7-10 runs on the shared
machine). Its p99 did not clearly change: the sends of one post now come in one burst."""
import asyncio
import logging
from collections import Counter

import anyio
from sqlalchemy import Engine

from domain.errors import TooManyStreams
from events.log_head import head_position

log = logging.getLogger("dealtrail.api")
POLL_SECONDS = 0.5
READ_THREADS = 4
KEPT_PAGES = 32  # pages read lately, kept for streams that ask for them a moment later


class StreamHub:
    def __init__(self, engine: Engine, max_per_key: int):
        self.engine, self.max_per_key = engine, max_per_key
        self.limiter = anyio.CapacityLimiter(READ_THREADS)
        self.position = -1  # the head as last polled (-1: not yet)
        self.open: Counter[str] = Counter()
        self._moved = asyncio.Event()
        self._waiting = 0
        self._poller: asyncio.Task | None = None
        self._pages: dict[object, tuple[int, asyncio.Task]] = {}  # key -> (head when read, the read)

    async def run(self, func, *args):
        """`func(*args)` on one of the streams' threads."""
        return await anyio.to_thread.run_sync(func, *args, limiter=self.limiter)

    async def shared(self, key, head: int, fresh, func, *args):
        """`func(*args)` on the streams' threads, read once for all callers with the same `key`
        (the same page) that ask while it runs or while its result is still fresh for them. A caller
        that goes away does not cancel the others' read."""
        entry = self._pages.get(key)
        if entry is None or not _serves(*entry, head, fresh):
            entry = self._pages[key] = (head, asyncio.ensure_future(self.run(func, *args)))
            entry[1].add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no warning
            while len(self._pages) > KEPT_PAGES:
                del self._pages[next(iter(self._pages))]
        return await asyncio.shield(entry[1])

    def take_slot(self, key: str) -> None:
        """One more open stream for `key`, or TooManyStreams (429); `release` gives it back."""
        if self.open[key] >= self.max_per_key:
            raise TooManyStreams(f"this key has {self.open[key]} event streams open, the most allowed",
                                 limit=self.max_per_key)
        self.open[key] += 1

    def release(self, key: str) -> None:
        self.open[key] -= 1
        if self.open[key] <= 0:
            del self.open[key]

    async def wait_past(self, after: int, timeout: float) -> None:
        """Until the head is past `after`, or `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._waiting += 1
        try:
            if self._poller is None or self._poller.done():
                self._poller = asyncio.create_task(self._poll())
            while self.position <= after and (left := deadline - loop.time()) > 0:
                try:
                    await asyncio.wait_for(self._moved.wait(), left)
                except TimeoutError:
                    return
        finally:
            self._waiting -= 1

    async def _poll(self) -> None:
        while self._waiting:
            try:
                top = await self.run(head_position, self.engine)
            except Exception as exc:  # the database restarting: streams wait, the poll goes on
                log.warning("event stream: reading the log's head failed: %s", type(exc).__name__)
            else:
                if top != self.position:
                    self.position, moved, self._moved = top, self._moved, asyncio.Event()
                    moved.set()
            await asyncio.sleep(POLL_SECONDS)


def _serves(began: int, task: asyncio.Task, head: int, fresh) -> bool:
    """Whether a read that began when the head was at `began` serves a caller that saw it at
    `head`: still running and begun at that head or later (it sees all the caller knows of), or
    done and its result `fresh(result, head)` (nothing the caller knows of is missing from it)."""
    if not task.done():
        return began >= head
    return not task.cancelled() and task.exception() is None and fresh(task.result(), head)


def hub_of(state, engine: Engine, max_per_key: int) -> StreamHub:
    """The app's hub for the running event loop (tests may run an app on more than one)."""
    hub = getattr(state, "stream_hub", None)
    loop = asyncio.get_running_loop()
    if hub is None or getattr(state, "stream_hub_loop", None) is not loop:
        hub = state.stream_hub = StreamHub(engine, max_per_key)
        state.stream_hub_loop = loop
    return hub
