"""One `dealtrail up` per data dir.

Two `up`s on one data dir would run two brokers, relays and watchers against one database,
and the second, failing, would delete the first one's `broker.json` on its way out. So `up`
takes an exclusive `flock` on `<data-dir>/up.lock` before it touches anything and holds it
for its lifetime, with its pid written inside for the message the next one prints. The
kernel drops the lock when the process dies however it dies (SIGKILL included): a killed
`up` leaves no stale lock, only a stale pid that nobody reads while the file is unlocked.
The descriptor is not inherited (Python opens non-inheritable), so no child keeps it."""
import fcntl
import os
from pathlib import Path

FILE = "up.lock"


class AlreadyRunning(RuntimeError):
    """Another `up` holds the data dir; the message names its pid."""


def hold(data_dir: Path, api_url: str = "") -> int:
    """Take the data dir's lock for this process's lifetime (the descriptor is returned and
    simply kept open); raises AlreadyRunning at once if another process holds it. The file
    says `<pid>\n<api url>\n` (`dealtrail status` asks that API)."""
    path = Path(data_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _read_pid(fd)
        os.close(fd)
        raise AlreadyRunning(f"`dealtrail up` already runs on {Path(data_dir).resolve()} "
                             f"(pid {pid or 'unknown'}); stop it first or use another --data-dir") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n{api_url}\n".encode(), 0)
    return fd


def holder(data_dir: Path) -> tuple[int, str] | None:
    """(pid, API URL) of the `up` running on the data dir, or None when none runs."""
    path = Path(data_dir) / FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        rest = os.pread(fd, 4096, 0).decode(errors="replace").partition("\n")[2]
        return _read_pid(fd) or -1, rest.strip()
    else:
        return None  # nobody holds it; closing lets go of our shared lock
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    first = os.pread(fd, 32, 0).decode(errors="replace").partition("\n")[0].strip()
    return int(first) if first.isdigit() else None
