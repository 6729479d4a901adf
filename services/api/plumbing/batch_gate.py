"""POST /v1/events/batch one at a time per API process, and its memory given back after each.

A batch's working set is many times its body: the JSON, then dicts, models, envelopes, hashes
and the rows' parameters all live at once (a 20 MB body of 10,000 events took the API from
105 MB to ~350 MB RSS; three at once peaked at 684 MB and 482 MB stayed held, the freed heap
kept by glibc's per-thread arenas). So batches wait for their turn before their body is read
(uvicorn stops reading a socket whose body nobody takes: a waiting batch holds ~64 KB), and
once one is answered `malloc_trim` hands the heap it freed back to the operating system."""
import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


def _libc_trim() -> Callable[[], None]:
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return lambda: None
    return lambda: trim(0)


release_heap = _libc_trim()


def one_at_a_time(route_class: type[APIRoute]) -> type[APIRoute]:
    """`route_class` whose requests run one at a time per app (see the module docstring)."""
    class OneAtATime(route_class):
        def get_route_handler(self) -> Callable:
            handler = super().get_route_handler()

            async def gated(request: Request) -> Response:
                async with _gate(request.app.state):
                    try:
                        return await handler(request)  # what it parsed is garbage once it returns
                    finally:
                        await run_in_threadpool(release_heap)
            return gated
    return OneAtATime


def _gate(state) -> asyncio.Semaphore:
    """The app's semaphore for the running event loop."""
    loop = asyncio.get_running_loop()
    if getattr(state, "batch_gate_loop", None) is not loop:
        state.batch_gate, state.batch_gate_loop = asyncio.Semaphore(1), loop
    return state.batch_gate
