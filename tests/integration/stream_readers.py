"""Many SSE subscriptions held open in a process of their own (so that reading them takes no
time from the test process that times requests): `seen[i]` is the last id stream i got,
`statuses[i]` its HTTP status (0 until answered)."""
import asyncio
import multiprocessing

import httpx


class StreamReaders:
    def __init__(self, url: str, keys: list[dict], count: int):
        ctx = multiprocessing.get_context("spawn")
        self.seen, self.statuses = ctx.Array("q", count, lock=False), ctx.Array("i", count, lock=False)
        self.stop = ctx.Event()
        self.proc = ctx.Process(target=_run, args=(url, keys, count, self.seen, self.statuses, self.stop), daemon=True)

    def __enter__(self) -> "StreamReaders":
        self.proc.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


def _run(url, keys, count, seen, statuses, stop) -> None:
    asyncio.run(_all(url, keys, count, seen, statuses, stop))


async def _all(url, keys, count, seen, statuses, stop) -> None:
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(None, connect=30), limits=limits) as client:
        readers = asyncio.gather(*(_one(client, url, keys[i % len(keys)], i, seen, statuses) for i in range(count)))
        while not stop.is_set() and not readers.done():
            await asyncio.sleep(0.1)
        readers.cancel()
        try:
            await readers
        except asyncio.CancelledError:
            pass


async def _one(client, url, headers, i, seen, statuses) -> None:
    async with client.stream("GET", f"{url}/v1/events/stream", headers=headers) as response:
        statuses[i] = response.status_code
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                seen[i] = int(line[4:])
