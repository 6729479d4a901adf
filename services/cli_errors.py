"""The CLI's expected failures as one line on stderr (exit 1), not a traceback: an API that
does not answer, a database or broker that cannot be reached, a URL that cannot be parsed,
a port in use, a data dir another `up` holds. Anything else is a bug and keeps its traceback.
Messages never repeat a URL (it may carry a password)."""
import errno

import httpx
import psycopg2
from kafka.errors import KafkaError
from sqlalchemy import exc as sa

from infra.up_lock import AlreadyRunning


class PortInUse(RuntimeError):
    def __init__(self, host: str, port: int):
        super().__init__(f"port {port} on {host} is in use (another dealtrail or program listens "
                         "there); choose another with --port / DEALTRAIL_PORT")


def describe(exc: BaseException) -> str | None:
    """The line to print, or None when `exc` is not an expected failure."""
    if isinstance(exc, (AlreadyRunning, PortInUse)):
        return str(exc)
    if isinstance(exc, httpx.TransportError):
        where = f" at {exc.request.url.scheme}://{exc.request.url.host}:{exc.request.url.port}" \
            if _has_request(exc) else ""
        return f"cannot reach the API{where} ({exc.__class__.__name__}); is `dealtrail up` running? (--api-url)"
    if isinstance(exc, (sa.OperationalError, psycopg2.OperationalError)):
        orig = getattr(exc, "orig", None) or exc
        first = (str(orig).strip().splitlines() or [orig.__class__.__name__])[0]
        return f"cannot use the database: {first}"
    if isinstance(exc, (sa.ArgumentError, sa.NoSuchModuleError)):
        return "the database URL cannot be used (expected postgresql://user:password@host:port/database)"
    if isinstance(exc, KafkaError):
        return f"cannot reach the Kafka broker ({exc.__class__.__name__}); check KAFKA_BOOTSTRAP_SERVERS"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"an address is in use: {exc.strerror}"
    return None


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        _ = exc.request  # raises RuntimeError when the error carries no request
    except RuntimeError:
        return False
    return True
