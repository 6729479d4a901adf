"""The HTTP protocol uvicorn runs for the API (`http=TimedHttpProtocol`): httptools with a
read deadline.

Uvicorn times out only a connection idle *after* a response (timeout_keep_alive): a client
that opens a connection and sends nothing, part of its headers, or headers and part of a body
(slowloris) held a connection and a request task forever. Here a request must be read whole
— headers and body — within DEALTRAIL_READ_TIMEOUT_SECONDS (default 60) of the connection
opening or the previous response ending; otherwise the connection is closed. The route then
sees the client gone (http.disconnect), as for a client that hangs up mid-body: answered 499,
never a 500 (services.api.plumbing.errors), and logged so."""
import logging
from asyncio import TimerHandle
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from infra.settings import Settings

log = logging.getLogger("dealtrail.api")


@cache
def read_timeout() -> float:
    return Settings().read_timeout_seconds


class TimedHttpProtocol(HttpToolsProtocol):
    _read_deadline: TimerHandle | None = None
    _unanswered = 0  # requests read whole and not yet answered (pipelined ones included)

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        self._unanswered += 1
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._unanswered = max(0, self._unanswered - 1)
        super().on_response_complete()
        if not self._unanswered and not self.transport.is_closing():
            self._arm()  # the next request on this connection has as long

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(read_timeout(), self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            log.info("closed a connection from %s: no whole request within %.0f s",
                     "%s:%d" % self.client if self.client else "?", read_timeout())
            self.transport.close()
