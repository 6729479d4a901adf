"""Group commit for single-event posts: the concurrent posts of one API process share one
database transaction (services.appending.append_each), each still answered on its own.

No timer: a post that finds a flusher free is flushed at once (no added latency when idle);
posts that arrive while every flusher is busy wait in the queue and go together, up to
`max_group`, in the next transaction a flusher starts. The coordination uses a thread lock,
not asyncio objects, so one committer serves any event loop (uvicorn's, a test client's)."""
import asyncio
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine

from services.appending import AppendResult, Post, append_each


@dataclass
class GroupStats:
    """What coalescing did: `requests` posts went in `groups` transactions."""
    groups: int = 0
    requests: int = 0
    largest: int = 0


@dataclass
class _Waiting:
    request: Post
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future = field(repr=False)


class GroupCommitter:
    def __init__(self, engine: Engine, currency: str, *, max_group: int = 256, flushers: int = 1):
        self.engine, self.currency = engine, currency
        self.max_group, self.flushers = max(1, max_group), max(1, flushers)
        self.stats = GroupStats()
        self._lock = threading.Lock()
        self._queue: deque[_Waiting] = deque()
        self._running = 0
        self._pool = ThreadPoolExecutor(self.flushers, thread_name_prefix="group-commit")

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def append(self, request: Post) -> AppendResult:
        """The request's own result, or its own error raised."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(request, loop, loop.create_future())
        with self._lock:
            self._queue.append(waiting)
            start = self._running < self.flushers
            if start:
                self._running += 1
        if start:
            self._pool.submit(self._drain)
        return await waiting.future

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._running -= 1
                    return
                group = [self._queue.popleft() for _ in range(min(self.max_group, len(self._queue)))]
            self._flush(group)

    def _flush(self, group: list[_Waiting]) -> None:
        try:
            outcomes = append_each(self.engine, [w.request for w in group], currency=self.currency)
        except BaseException as exc:  # noqa: BLE001 - every waiter must be answered
            outcomes = [exc] * len(group)
        with self._lock:
            self.stats.groups += 1
            self.stats.requests += len(group)
            self.stats.largest = max(self.stats.largest, len(group))
        for waiting, outcome in zip(group, outcomes):
            try:
                waiting.loop.call_soon_threadsafe(_settle, waiting.future, outcome)
            except RuntimeError:  # the request's loop is gone (its client left): nobody to answer
                pass


def _settle(future: asyncio.Future, outcome) -> None:
    if future.done():  # cancelled: the client disconnected
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
