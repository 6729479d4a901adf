"""When the worker takes sums snapshots (projections.runtime.worker.Worker._snapshots): while applying, at
most one step per BUSY_PERIOD, the first one no sooner than BUSY_PERIOD after it started (it may
start on a backlog); when idle, at once."""
import pytest

from projections.read_models import SALES
from projections.runtime import worker


@pytest.fixture()
def steps(monkeypatch):
    taken = []
    monkeypatch.setattr(worker, "take_snapshots", lambda projection, engine, budget, every: taken.append(budget) or 1)
    return taken


@pytest.fixture()
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: now[0])
    return now


def test_a_busy_worker_waits_a_busy_period_from_its_start(steps, clock):
    w = worker.Worker(SALES, None, "unused:9092", "topic")
    assert w._snapshots(busy=True) == 0 and steps == []
    clock[0] += worker.BUSY_PERIOD - 0.1
    assert w._snapshots(busy=True) == 0
    clock[0] += 0.1
    assert w._snapshots(busy=True) == 1 and steps == [0]  # one step, no budget beyond it
    clock[0] += 1
    assert w._snapshots(busy=True) == 0  # the next one a busy period later


def test_an_idle_worker_takes_them_at_once(steps, clock):
    w = worker.Worker(SALES, None, "unused:9092", "topic")
    assert w._snapshots(busy=False) == 1 and steps == [worker.IDLE_BUDGET]
