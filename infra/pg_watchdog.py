"""`python -m infra.pg_watchdog PGDATA UP_PID`: stops the embedded PostgreSQL when `up` dies.

`pg_ctl` daemonizes the postmaster, so no parent-death signal reaches it: a killed `up`
(SIGKILL included) used to leave it running. This small child of `up` gets SIGTERM when
`up` dies (infra.processes.die_with_parent) and also looks at its parent pid every second;
then it asks the postmaster in PGDATA/postmaster.pid for a fast shutdown (SIGINT: sessions
are ended, nothing committed is lost). `up` stopping it on its way out (it stops PostgreSQL
itself) sends SIGUSR1 instead: it exits and touches nothing. The parent pid cannot tell the
two apart: when `up`'s main thread dies before its other threads, the child is re-parented to
one of those (the same pid) and gets the parent-death signal then."""
import os
import signal
import sys
from pathlib import Path

from infra.processes import ChildProcess, Output

WAKE = {signal.SIGTERM, signal.SIGINT, signal.SIGUSR1}


class PgWatchdog(ChildProcess):
    """The supervisor unit of the watchdog: stopping it means "exit quietly" (SIGUSR1)."""

    def __init__(self, pgdata: Path, output: Output):
        super().__init__("pg-watch", [sys.executable, "-m", "infra.pg_watchdog", str(pgdata),
                                      str(os.getpid())], dict(os.environ), output, grace=2.0)

    def terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGUSR1)


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def watch(pgdata: Path, up_pid: int) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, WAKE)
    while os.getppid() == up_pid:
        got = signal.sigtimedwait(WAKE, 1.0)
        if got is not None and got.si_signo == signal.SIGUSR1:
            return  # `up` stops us on its way out and stops PostgreSQL itself
        if got is not None:
            break
    pid = postmaster_pid(pgdata)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    watch(Path(sys.argv[1]), int(sys.argv[2]))
