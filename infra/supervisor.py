"""Runs child processes for `dealtrail up`, prefixing their output, and stops them together."""
import ctypes
import itertools
import os
import signal
import subprocess
import sys
import threading
import time

COLORS = itertools.cycle(["36", "35", "33", "32", "34", "31"])


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if `dealtrail up` itself dies (even by SIGKILL)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: children outlive a killed parent; Ctrl-C still stops them


class Supervisor:
    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.children: list[tuple[str, subprocess.Popen]] = []
        self._lock = threading.Lock()
        self._width = 8

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, text=True, bufsize=1,
                                preexec_fn=_die_with_parent)
        self.children.append((name, proc))
        color = next(COLORS)
        threading.Thread(target=self._pump, args=(name, color, proc), daemon=True).start()

    def say(self, name: str, line: str, color: str = "1") -> None:
        prefix = f"{name:<{self._width}}|"
        if self.out.isatty():
            prefix = f"\033[{color}m{prefix}\033[0m"
        with self._lock:
            self.out.write(f"{prefix} {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, name: str, color: str, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.say(name, line, color)

    def wait(self, stop: threading.Event) -> str | None:
        """Block until `stop` is set or a child exits; returns the name of a child that exited."""
        while not stop.is_set():
            for name, proc in self.children:
                if proc.poll() is not None:
                    return name
            stop.wait(0.2)
        return None

    def stop(self, timeout: float = 10.0) -> None:
        for _, proc in self.children:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, proc in self.children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
