"""BI onboarding: `dealtrail bi-login create NAME` makes a login in bi_reader and prints the URL to
connect with; it reads read_models and nothing else. Over TCP (`up --pg-port N`): test_bi_port."""
import os
import subprocess
import sys
import uuid

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from tests.integration.projection_helpers import History, project_all
from tests.owners import owner_url


def cli(*args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env={**os.environ, "DATABASE_URL": url},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def login(fresh_engine):
    History(fresh_engine).create("bi-login-1", 0)
    project_all(fresh_engine)
    owner, name = owner_url(fresh_engine), f"analyst_{uuid.uuid4().hex[:8]}"
    made = cli("bi-login", "create", name, url=owner)
    assert made.returncode == 0, made.stderr
    yield name, made.stdout.strip(), owner
    cli("bi-login", "drop", name, url=owner)


def test_a_bi_login_reads_the_read_models_and_nothing_else(login):
    name, url, owner = login
    assert make_url(url).username == name and make_url(url).password
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM read_models.deal_current")
        assert cur.fetchone()[0] == 1
        for statement in ("SELECT count(*) FROM events.event",
                          "DELETE FROM read_models.deal_current",
                          "CREATE TABLE read_models.mine (x int)"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement)
    conn.close()
    assert name in cli("bi-login", "list", url=owner).stdout.split()


def test_names_are_checked_and_drop_only_removes_bi_logins(login):
    name, _, owner = login
    for bad in ("postgres", "dealtrail_app", "Robert'); DROP", name):
        refused = cli("bi-login", "create", bad, url=owner)
        assert refused.returncode == 2 and refused.stderr, bad
    assert cli("bi-login", "drop", "dealtrail_app", url=owner).returncode == 2
    assert cli("bi-login", "drop", name, url=owner).returncode == 0
    assert name not in cli("bi-login", "list", url=owner).stdout.split()
