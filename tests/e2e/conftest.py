"""`up`: a `dealtrail up` in the test's tmp_path on a copy of a migrated data dir (made once per
session), interrupted at the end; `first_up`: the same from an empty data dir, for what a first
start does (initdb, migrations, the admin key); `shared_up`: one `up` for the tests that only run
something beside it. Each start of `up` from nothing is an initdb, the migrations, a broker and
four services (~20-35 s of a test on the shared machine): most tests need only a running one."""
import subprocess
import sys

import pytest

from tests.e2e.helpers import Up
from tests.e2e.test_maintenance import CLEAN_ENV


@pytest.fixture(scope="session")
def migrated(tmp_path_factory):
    """A data dir as `dealtrail migrate` leaves it (its PostgreSQL stopped): a template to copy."""
    where = tmp_path_factory.mktemp("migrated")
    subprocess.run([sys.executable, "-m", "services.cli", "migrate", "--data-dir", str(where / "data")],
                   check=True, capture_output=True, timeout=300, cwd=where, env=CLEAN_ENV)
    return where / "data"


def _interrupted(running: Up):
    yield running
    if running.proc.poll() is None:
        running.interrupt()


@pytest.fixture()
def up(tmp_path, migrated):
    yield from _interrupted(Up(tmp_path, template=migrated))


@pytest.fixture()
def first_up(tmp_path):
    yield from _interrupted(Up(tmp_path))


@pytest.fixture(scope="session")
def shared_up(tmp_path_factory, migrated):
    """Ready; for tests that neither stop it nor depend on what others wrote through it."""
    running = Up(tmp_path_factory.mktemp("shared-up"), template=migrated)
    try:
        running.wait_ready()
        yield running
    finally:
        if running.proc.poll() is None:
            running.interrupt()
