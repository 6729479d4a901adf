"""Waiting in tests for something another thread or process does.

The suite runs on busy machines (2 cores shared with other test runs): something that takes a
second alone can take tens of seconds there. So a test waits on the condition it needs, never
on a fixed sleep, and the deadline only says when to give up: PATIENCE by default, far above
what anything normally takes, so that only a real hang fails.
"""
import time

PATIENCE = 60.0  # seconds: the default deadline of a condition that normally holds within a second


def until(condition, timeout: float = PATIENCE, interval: float = 0.01, message: str = "condition not reached"):
    """Return `condition()`'s first truthy value; fail the test if there is none within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{message} within {timeout:g} s"
        time.sleep(interval)
    return value
