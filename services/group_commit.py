"""Group commit for single-event posts: the concurrent posts of one API process share one
database transaction (services.appending.append_each), each still answered on its own.

No timer: a post that finds a flusher free is flushed at once (no added latency when idle);
posts that arrive while every flusher is busy wait in the queue and go together, up to
`max_group`, in the next transaction a flusher starts. The coordination uses a thread lock,
not asyncio objects, so one committer serves any event loop (uvicorn's, a test client's).

A flusher keeps one connection while the queue has posts (`_Kept`), not one checkout per group:
under load a queue empties once every dozens of groups, so the pool's pre-ping round trip is
mostly gone (a group was four: ping, lock and number, insert and move, commit). A connection
found dead (a database restart, a cut backend) fails its statement before COMMIT, so nothing
was written: the group is decided again on a new connection."""
import asyncio
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

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


class _Kept:
    """One connection for a flusher's run of groups; `transact(work)` runs `work(conn)` in a
    transaction on it."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.conn: Connection | None = None

    def transact(self, work):
        for attempt in range(2):
            if self.conn is None:
                self.conn = self.engine.connect()  # checked out (and pinged) by the pool
            transaction = self.conn.begin()
            try:
                result = work(self.conn)
            except DBAPIError as exc:
                self._roll_back(transaction)
                if exc.connection_invalidated and attempt == 0:
                    continue  # lost before COMMIT: nothing was written; decide it all again
                raise
            except BaseException:
                self._roll_back(transaction)
                raise
            try:
                transaction.commit()  # lost during COMMIT: the outcome is unknown, never retried
            except BaseException:
                self.close()
                raise
            return result
        raise AssertionError("unreachable")

    def _roll_back(self, transaction) -> None:
        try:
            transaction.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone: a new one next time
            self.close()
            return
        if self.conn is not None and self.conn.invalidated:
            self.close()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass


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
        kept = _Kept(self.engine)
        try:
            while True:
                with self._lock:
                    if not self._queue:
                        self._running -= 1
                        return
                    group = [self._queue.popleft() for _ in range(min(self.max_group, len(self._queue)))]
                self._flush(group, kept)
        finally:
            kept.close()

    def _flush(self, group: list[_Waiting], kept: _Kept) -> None:
        try:
            outcomes = append_each(self.engine, [w.request for w in group], currency=self.currency,
                                   transact=kept.transact)
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
