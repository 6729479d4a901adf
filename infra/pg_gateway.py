"""TCP access to the embedded PostgreSQL for local BI tools (`dealtrail up --pg-port N`).

The embedded server listens on a Unix socket only (the wheel starts it with no TCP address). The
gateway listens on 127.0.0.1:N and relays each connection to that socket, after reading the
PostgreSQL startup message itself: it answers SSL and GSS encryption requests with "no" (a
loopback connection), and refuses the owner role — the superuser, trusted on the socket without
a password — so over TCP only password logins (the BI logins of `dealtrail bi-login create`, all
SCRAM) get in. Cancel requests are relayed as they are."""
import asyncio
import logging
import struct
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlparse

log = logging.getLogger("dealtrail.pg_gateway")
SSL_REQUEST, GSS_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102
ADDRESS_FILE = "pg-address"  # host:port of the gateway, in the data dir, while `up` runs


def startup_user(body: bytes) -> str | None:
    """The `user` of a StartupMessage body (after its length and protocol version)."""
    fields = body.split(b"\0")
    for key, value in zip(fields[::2], fields[1::2]):
        if key == b"user":
            return value.decode("utf-8", "replace")
    return None


def error_response(message: str) -> bytes:
    """A FATAL ErrorResponse (invalid_authorization_specification), as the server sends one."""
    fields = b"".join(code + text.encode() + b"\0" for code, text in
                      ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", "28000"), (b"M", message)))
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


class PgGateway:
    def __init__(self, socket_path: Path, host: str, port: int, refused_users: set[str]):
        self.socket_path, self.host, self.port = str(socket_path), host, port
        self.refused = refused_users
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._server = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pg-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._server is None:
            raise RuntimeError(f"the PostgreSQL gateway could not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, self.host, self.port))
        except OSError as exc:
            log.error("cannot listen on %s:%d: %s", self.host, self.port, exc)
        finally:
            self._ready.set()
        if self._server is not None:
            self._loop.run_forever()
            self._server.close()
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await self._startup(reader, writer)
            if first is None:
                return
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.socket_path)
            upstream_writer.write(first)
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            log.debug("gateway connection ended: %s", exc)
        finally:
            writer.close()

    async def _startup(self, reader, writer) -> bytes | None:
        """The startup packet to relay, after answering encryption requests; None if refused."""
        while True:
            length, code = struct.unpack("!II", await reader.readexactly(8))
            if not 8 <= length <= 10_000:
                raise ValueError("bad startup packet length")
            body = await reader.readexactly(length - 8)
            if code in (SSL_REQUEST, GSS_REQUEST):
                writer.write(b"N")  # no encryption on the loopback; the client goes on in the clear
                await writer.drain()
                continue
            packet = struct.pack("!II", length, code) + body
            if code == CANCEL_REQUEST:
                return packet
            user = startup_user(body)
            if user is None or user in self.refused:
                writer.write(error_response(f"role {user!r} may not connect over TCP; use a login made by "
                                            "`dealtrail bi-login create NAME`"))
                await writer.drain()
                return None
            return packet


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


def socket_of(url: str) -> Path:
    """The Unix socket of a `postgresql://...?host=<dir>` URL (libpq: <dir>/.s.PGSQL.<port>)."""
    parsed = urlparse(url)
    directory = parse_qs(parsed.query).get("host", [parsed.hostname or ""])[0]
    return Path(directory) / f".s.PGSQL.{parsed.port or 5432}"


def record(data_dir: Path, host: str, port: int) -> None:
    (Path(data_dir) / ADDRESS_FILE).write_text(f"{host}:{port}\n")


def recorded(data_dir: Path) -> tuple[str, int] | None:
    path = Path(data_dir) / ADDRESS_FILE
    if not path.exists():
        return None
    host, _, port = path.read_text().strip().rpartition(":")
    return host, int(port)


def forget(data_dir: Path) -> None:
    (Path(data_dir) / ADDRESS_FILE).unlink(missing_ok=True)
