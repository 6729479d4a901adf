"""Child processes of `dealtrail up`: started in their own session, output prefixed by name,
stopped with SIGTERM (then SIGKILL), and never outliving `up`."""
import ctypes
import itertools
import os
import signal
import subprocess
import sys
import threading

COLORS = itertools.cycle(["36", "35", "33", "32", "34", "31"])
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the thread that started it dies (even by SIGKILL)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: children outlive a killed parent; Ctrl-C still stops them


class Output:
    """Writes `name | line` to one stream; one lock so lines from children never interleave."""

    def __init__(self, out=None, width: int = 8):
        self.out = out or sys.stdout
        self.width = width
        self._lock = threading.Lock()

    def say(self, name: str, line: str, color: str = "1") -> None:
        prefix = f"{name:<{self.width}}|"
        if self.out.isatty():
            prefix = f"\033[{color}m{prefix}\033[0m"
        with self._lock:
            self.out.write(f"{prefix} {line.rstrip()}\n")
            self.out.flush()

    def plain(self, lines: list[str]) -> None:
        """Unprefixed lines, together (`up`'s closing summary)."""
        with self._lock:
            self.out.write("".join(f"{line}\n" for line in lines))
            self.out.flush()


class ChildProcess:
    """A restartable command (a supervisor unit). `stop` allows `grace` seconds after SIGTERM."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], output: Output,
                 grace: float = 5.0):
        self.name, self.argv, self.env, self.output, self.grace = name, argv, env, output, grace
        self.color = next(COLORS)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True, text=True, bufsize=1,
                                     preexec_fn=die_with_parent)
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()

    def _pump(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.output.say(self.name, line, self.color)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def exit_status(self) -> str | None:
        """Popen's convention: a negative code is the signal that ended it (-9: SIGKILL)."""
        code = self.proc.poll() if self.proc else None
        return None if code is None else str(code)

    def terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self) -> None:
        if not self.proc:
            return
        self.terminate()
        try:
            self.proc.wait(self.grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
