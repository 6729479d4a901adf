"""Where `dealtrail up` tells other commands its embedded broker is.

The embedded broker listens on a free port chosen at start and keeps it across restarts, so a
`relay` or `project` run by hand on the same data dir can join it only if `up` says where it
is: `<data-dir>/broker.json`, written when the broker starts and removed when `up` stops. The
file names `up`'s pid, so one left behind by a killed `up` is recognised as stale."""
import json
import os
from pathlib import Path

import psutil

FILE = "broker.json"


def record(data_dir: Path, bootstrap: str) -> None:
    path = Path(data_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"bootstrap": bootstrap, "pid": os.getpid()}))
    tmp.replace(path)  # readers never see half a file


def forget(data_dir: Path) -> None:
    """Removes the file if this process wrote it (another `up` may have taken over)."""
    path = Path(data_dir) / FILE
    if _read(path).get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def running(data_dir: Path) -> str | None:
    """The bootstrap address of the broker of a live `up` on this data dir, else None."""
    stored = _read(Path(data_dir) / FILE)
    pid = stored.get("pid")
    if not pid or not psutil.pid_exists(pid):
        return None
    return stored.get("bootstrap")


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
