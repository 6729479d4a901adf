"""What every open event stream of one API process shares: one poll of the log's head, one
small pool of threads for their reads, and the per-key count of open streams.

Each stream used to poll the database itself twice a second: 200 idle streams were 400 queries
a second through the threads sync routes answer on, and a simple GET waited behind them. Now
one task polls the head while streams wait, and wakes them when it moves; their reads run on
their own `CapacityLimiter` (a few threads), so streams can slow only each other."""
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


class StreamHub:
    def __init__(self, engine: Engine, max_per_key: int):
        self.engine, self.max_per_key = engine, max_per_key
        self.limiter = anyio.CapacityLimiter(READ_THREADS)
        self.position = -1  # the head as last polled (-1: not yet)
        self.open: Counter[str] = Counter()
        self._moved = asyncio.Event()
        self._waiting = 0
        self._poller: asyncio.Task | None = None

    async def run(self, func, *args):
        """`func(*args)` on one of the streams' threads."""
        return await anyio.to_thread.run_sync(func, *args, limiter=self.limiter)

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


def hub_of(state, engine: Engine, max_per_key: int) -> StreamHub:
    """The app's hub for the running event loop (tests may run an app on more than one)."""
    hub = getattr(state, "stream_hub", None)
    loop = asyncio.get_running_loop()
    if hub is None or getattr(state, "stream_hub_loop", None) is not loop:
        hub = state.stream_hub = StreamHub(engine, max_per_key)
        state.stream_hub_loop = loop
    return hub
