"""The supervisor's rules with fake units: restart with backoff, reset, give up, dependents, gates."""
import logging
import threading
import time

import pytest

from infra.supervisor import Backoff, GaveUp, Supervisor
from tests.waiting import PATIENCE, until


class Fake:
    """A unit that runs until `crash()`; `fail_starts` makes its next starts raise."""

    def __init__(self, name, fail_starts=0):
        self.name, self.fail_starts = name, fail_starts
        self.alive, self.starts, self.stops = False, 0, 0

    def start(self):
        if self.fail_starts:
            self.fail_starts -= 1
            raise OSError("cannot start")
        self.alive, self.starts = True, self.starts + 1
        return f"{self.name}-url"

    def exit_status(self):
        return None if self.alive else "-9"

    def crash(self):
        self.alive = False

    def stop(self):
        self.alive, self.stops = False, self.stops + 1


class Running:
    def __init__(self, supervisor):
        self.stop, self.error = threading.Event(), None
        self.thread = threading.Thread(target=self._run, args=(supervisor,), daemon=True)
        self.thread.start()

    def _run(self, supervisor):
        try:
            supervisor.run(self.stop)
        except GaveUp as exc:
            self.error = exc

    def halt(self):
        self.stop.set()
        self.thread.join(PATIENCE)


def fast(**kw):
    return Supervisor(Backoff(base=0.02, cap=0.08, stable_after=kw.pop("stable_after", 10.0)),
                      tick=0.005, **kw)


def test_a_dead_unit_is_restarted_with_growing_backoff_and_logged(caplog):
    caplog.set_level(logging.INFO, "dealtrail.up")
    sup, relay = fast(), Fake("relay")
    assert sup.start(relay) == "relay-url"
    running = Running(sup)
    for n in (2, 3, 4):
        relay.crash()
        until(lambda n=n: relay.starts == n)
    running.halt()
    delays = [r.getMessage() for r in caplog.records if "exited" in r.getMessage()]
    assert delays == ["relay exited with -9; restarting in 0.0s", "relay exited with -9; restarting in 0.0s",
                      "relay exited with -9; restarting in 0.1s"]
    assert [sup.backoff.delay(n) for n in range(4)] == [0.02, 0.04, 0.08, 0.08]


def test_backoff_resets_once_a_unit_stayed_up():
    sup, unit = fast(stable_after=0.05), Fake("api")
    sup.start(unit)
    running = Running(sup)
    for n in (2, 3, 4):
        time.sleep(0.08)  # on purpose: up longer than stable_after (0.05 s), so the backoff resets
        unit.crash()
        until(lambda n=n: unit.starts == n)
    running.halt()
    assert sup._watched[0].failures == 1


def test_failed_restarts_count_and_a_unit_that_never_came_up_gives_up():
    sup, unit = fast(give_up_after=3), Fake("api")
    sup.start(unit)
    unit.fail_starts = 100
    running = Running(sup)
    unit.crash()
    running.thread.join(PATIENCE)
    assert isinstance(running.error, GaveUp) and "giving up" in str(running.error)


def test_stop_stops_everything_last_started_first():
    sup, order = fast(), []
    units = [Fake(n) for n in ("postgres", "broker", "api")]
    for unit in units:
        unit.stop = (lambda u: lambda: order.append(u.name))(unit)
        sup.start(unit)
    sup.stop()
    assert order == ["api", "broker", "postgres"]


def test_dependents_stop_with_what_they_need_and_start_after_it():
    sup, broker, relay, worker = fast(), Fake("broker"), Fake("relay"), Fake("worker")
    topic = threading.Event()
    sup.start(broker)
    sup.start(relay, needs=broker)
    sup.start(worker, needs=broker, when=topic.is_set)
    running = Running(sup)
    time.sleep(0.05)  # on purpose: ~10 ticks (0.005 s) in which a start would be wrong
    assert worker.starts == 0, "waits for its condition"
    topic.set()
    until(lambda: worker.starts == 1)
    broker.fail_starts = 2  # comes back on the third try
    topic.clear()
    broker.crash()
    until(lambda: relay.stops == 1 and worker.stops == 1)
    until(lambda: broker.starts == 2 and relay.starts == 2)
    time.sleep(0.05)  # on purpose, as above: its condition is not met again yet
    assert worker.starts == 1
    topic.set()
    until(lambda: worker.starts == 2)
    running.halt()
    assert sup._watched[1].failures == 0, "a stop asked for is no failure"


@pytest.mark.parametrize("failures,delay", [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)])
def test_default_backoff_caps_at_a_few_seconds(failures, delay):
    assert Backoff().delay(failures) == delay
