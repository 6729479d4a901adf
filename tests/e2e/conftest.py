"""The `up` fixture: a `dealtrail up` in the test's tmp_path, interrupted at the end."""
import pytest

from tests.e2e.helpers import Up


@pytest.fixture()
def up(tmp_path):
    running = Up(tmp_path)
    yield running
    if running.proc.poll() is None:
        running.interrupt()
