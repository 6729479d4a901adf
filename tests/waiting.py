"""Waiting in tests for something another thread or process does."""
import time


def until(condition, timeout: float = 5.0, interval: float = 0.01) -> None:
    """Return once `condition()` is true; fail the test if it is not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(interval)
