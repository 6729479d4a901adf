"""Keeps `dealtrail up`'s units running: child processes and embedded services.

A unit that dies is restarted after an exponential backoff (reset once it stayed up a while),
so one crash never takes the rest down. A unit may *need* another: while the needed one is
down it is stopped too, and it starts again only after it (the relay and the worker need the
embedded broker: a fresh relay recreates the topic and republishes). A unit may also wait for
a condition before it starts (the worker waits for the relay's topic, so it never subscribes
to a topic the broker would create with its own defaults).

Everything runs on the calling (main) thread: a child's parent-death signal fires when the
*thread* that forked it exits."""
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("dealtrail.up")


class Unit(Protocol):
    name: str

    def start(self) -> object: ...

    def exit_status(self) -> str | None:
        """None while running; otherwise how it ended (an exit code, or 'an unknown code')."""

    def stop(self) -> None: ...


@dataclass
class Backoff:
    """0.5 s, 1 s, 2 s, ... up to `cap`; back to `base` once a unit ran for `stable_after`."""
    base: float = 0.5
    cap: float = 5.0
    stable_after: float = 30.0

    def delay(self, failures: int) -> float:
        return min(self.cap, self.base * 2 ** failures)


@dataclass
class _Watched:
    unit: Unit
    needs: "_Watched | None" = None
    when: Callable[[], bool] | None = None
    running: bool = False
    started_at: float = 0.0
    failures: int = 0
    ever_stable: bool = False
    start_at: float | None = None  # not running: the earliest next start (None: not planned)
    asked_at: float = 0.0  # when `when` was last asked (it may be a network call)


class GaveUp(RuntimeError):
    """A unit never stayed up after its first start: a configuration problem, not a crash."""


class Supervisor:
    def __init__(self, backoff: Backoff | None = None, give_up_after: int = 5, tick: float = 0.2):
        self.backoff = backoff or Backoff()
        self.give_up_after = give_up_after
        self.tick = tick
        self._watched: list[_Watched] = []

    def start(self, unit: Unit, *, needs: Unit | None = None, when: Callable[[], bool] | None = None):
        """Start a unit and watch it from then on; returns what its `start` returned. With
        `when`, it starts later, from `run`, once `when()` is true. Failures of a first start
        are the caller's."""
        watched = _Watched(unit, needs=self._find(needs), when=when)
        self._watched.append(watched)
        if when is not None:
            watched.start_at = 0.0
            return None
        return self._launch(watched)

    def _find(self, unit: Unit | None) -> _Watched | None:
        return next((w for w in self._watched if w.unit is unit), None) if unit else None

    def all_running(self) -> bool:
        """Every unit started (read from another thread: a snapshot, good enough to report)."""
        return all(w.running for w in list(self._watched))

    def run(self, stop: threading.Event) -> None:
        """Restart what dies until `stop` is set; raises GaveUp for a unit that never came up."""
        while not stop.is_set():
            for watched in self._watched:
                if not stop.is_set():
                    self._check(watched, time.monotonic())
            stop.wait(self.tick)

    def _check(self, w: _Watched, now: float) -> None:
        if w.running:
            status = w.unit.exit_status()
            if status is None:
                if now - w.started_at >= self.backoff.stable_after:
                    w.failures, w.ever_stable = 0, True
                return
            w.running = False
            self._schedule(w, f"{w.unit.name} exited with {status}", now)
            self._hold_dependents(w)
        elif self._may_start(w, now):
            try:
                self._launch(w)
            except Exception as exc:  # a failed start is one more failure; the backoff grows
                self._schedule(w, f"{w.unit.name} failed to start ({exc.__class__.__name__})",
                               time.monotonic())
                return
            log.info("%s started", w.unit.name)

    def _may_start(self, w: _Watched, now: float) -> bool:
        if w.start_at is None or now < w.start_at or (w.needs and not w.needs.running):
            return False
        if w.when is None:
            return True
        if now - w.asked_at < 1.0:
            return False
        w.asked_at = now
        return bool(w.when())

    def _launch(self, w: _Watched):
        w.start_at, w.started_at = None, time.monotonic()
        started = w.unit.start()
        w.running = True
        return started

    def _schedule(self, w: _Watched, what: str, now: float) -> None:
        if now - w.started_at >= self.backoff.stable_after:
            w.failures, w.ever_stable = 0, True
        if not w.ever_stable and w.failures >= self.give_up_after:
            raise GaveUp(f"{what}; it failed {w.failures + 1} times in a row, giving up")
        delay = self.backoff.delay(w.failures)
        w.failures += 1
        w.start_at = now + delay
        log.warning("%s; restarting in %.1fs", what, delay)

    def _hold_dependents(self, needed: _Watched) -> None:
        """Stop what needs `needed` (all asked at once, then waited for); each starts again
        once `needed` runs, and a stop asked for is not counted as a failure."""
        held = [w for w in self._dependents(needed) if w.running]
        for w in held:
            log.warning("stopping %s until %s is back", w.unit.name, needed.unit.name)
            getattr(w.unit, "terminate", lambda: None)()
        for w in held:
            w.unit.stop()
            w.running, w.start_at = False, 0.0

    def _dependents(self, needed: _Watched) -> list[_Watched]:
        direct = [w for w in self._watched if w.needs is needed]
        return direct + [d for w in direct for d in self._dependents(w)]

    def stop(self) -> None:
        """Stop every unit, the last started first (children before the broker and database).
        Units that can be asked to stop without waiting (`terminate`) are all asked first."""
        for watched in self._watched:
            if watched.running:
                getattr(watched.unit, "terminate", lambda: None)()
        for watched in reversed(self._watched):
            try:
                watched.unit.stop()
            except Exception:  # stopping the rest matters more than this one's error
                log.exception("stopping %s failed", watched.unit.name)
