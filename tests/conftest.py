"""Real PostgreSQL and a real Kafka-protocol broker, started here once per test session
(or taken from DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS)."""
import hashlib
import os
import tempfile
import uuid
from pathlib import Path

import psycopg2
import pytest
from hypothesis import settings
from psycopg2 import sql

from infra import logins
from infra.db import make_engine
from infra.embedded import EmbeddedBroker, EmbeddedPostgres
from infra.migrate import upgrade
from services.bootstrap import ensure_default_pipeline
from tests.owners import register_admin

APP_ROLE = logins.APP_LOGIN

# Hypothesis fails an example slower than 200 ms by default ("Unreliable test timings" when the
# retry is fast): on a busy machine that is noise, not a finding. Tests that need a bound say so.
settings.register_profile("dealtrail", deadline=None)
settings.load_profile("dealtrail")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """tmp_path under a directory of this checkout's own, not /tmp/pytest-of-<user>: every pytest
    session that starts on the machine (another checkout's `make test`) resets that one to 0700,
    and a PostgreSQL that `up` is initialising or restarting there as its own OS user then fails
    with 'Permission denied' (seen under load: the fault test's initdb). --basetemp still wins."""
    if config.option.basetemp is None:
        checkout = hashlib.sha1(str(Path(__file__).resolve().parents[1]).encode()).hexdigest()[:10]
        config.option.basetemp = str(Path(tempfile.gettempdir()) / f"dealtrail-tests-{checkout}")


def _with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin_url():
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with tempfile.TemporaryDirectory(prefix="dealtrail-pg-") as tmp:
        server = EmbeddedPostgres(Path(tmp), database="postgres")
        url = server.start()
        _no_fsync(url)
        yield url
        server.stop()


def _no_fsync(admin_url: str) -> None:
    """The session's throw-away server skips fsync (and full-page images, only for an OS crash
    too): a killed process still loses no commit, and nothing outlives the session. Its
    shutdown checkpoint after ~300 databases took ~26 s of every run with fsync on."""
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ALTER SYSTEM SET fsync = off")
        cur.execute("ALTER SYSTEM SET full_page_writes = off")
        cur.execute("SELECT pg_reload_conf()")
    conn.close()


class Databases:
    """Creates migrated databases: one shared per session, fresh ones on demand (fast clones)."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        register_admin(admin_url)
        self.created: list[str] = []
        self.template = self._create(f"dealtrail_tpl_{os.getpid()}", template=None)
        template_url = _with_database(admin_url, self.template)
        upgrade(template_url)
        self.passwords = logins.generate()  # services and BI log in as their own roles, as under `up`
        logins.provision(template_url, self.passwords)
        engine = make_engine(self.app_url(template_url), app_role=APP_ROLE, pool_size=1)
        ensure_default_pipeline(engine, "USD")  # as `dealtrail migrate` does on first start
        engine.dispose()

    def _create(self, name: str, template: str | None) -> str:
        conn = psycopg2.connect(self.admin_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template))
            cur.execute(query)
            if template:  # database privileges are not copied from the template (see migration 0003)
                cur.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO dealtrail_app").format(sql.Identifier(name)))
        conn.close()
        self.created.append(name)
        return name

    def app_url(self, owner_url: str) -> str:
        """The app login's URL for the database of `owner_url` (what the services connect with)."""
        return logins.login_url(owner_url, APP_ROLE, self.passwords.app)

    def empty(self) -> str:
        """The owner's URL of a new database with no migrations (what an operator starts from)."""
        return _with_database(self.admin_url, self._create(f"dealtrail_e_{uuid.uuid4().hex[:12]}", template=None))

    def fresh(self) -> str:
        name = self._create(f"dealtrail_t_{uuid.uuid4().hex[:12]}", template=self.template)
        return _with_database(self.admin_url, name)

    def drop_all(self) -> None:
        conn = psycopg2.connect(self.admin_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in reversed(self.created):
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.close()


@pytest.fixture(scope="session")
def databases(pg_admin_url):
    dbs = Databases(pg_admin_url)
    yield dbs
    if os.environ.get("DATABASE_URL"):  # an embedded server goes with its temporary directory
        dbs.drop_all()  # (dropping its ~300 databases one by one took ~50 s of every run)


@pytest.fixture(scope="session")
def db_url(databases):
    """The owner's URL of the session's shared, migrated database."""
    return databases.fresh()


@pytest.fixture(scope="session")
def engine(db_url, databases):
    """The services' connection: the app login (not the owner with SET ROLE)."""
    eng = make_engine(databases.app_url(db_url), app_role=APP_ROLE, pool_size=20)
    yield eng
    eng.dispose()


@pytest.fixture()
def fresh_engine(databases):
    """An engine on a new, empty, migrated database (for tests that read the whole log)."""
    eng = make_engine(databases.app_url(databases.fresh()), app_role=APP_ROLE, pool_size=10)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def broker_bootstrap():
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    broker = EmbeddedBroker()
    yield broker.start()
    broker.stop()


@pytest.fixture()
def deal_id():
    return f"deal-{uuid.uuid4().hex[:12]}"
