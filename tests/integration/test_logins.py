"""Services log in as the app role itself: `RESET ROLE` cannot make them superuser, the log stays
append-only for them; BI logs in as dealtrail_bi with a password; the embedded server asks every
role but the owner for one."""
import os
import stat
import subprocess
import sys

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from infra import logins
from infra.settings import Settings
from tests.owners import owner_url


def test_the_services_connection_stays_the_app_role_after_reset_role(engine):
    with engine.connect() as conn:
        conn.execute(text("RESET ROLE"))
        who = conn.execute(text("SELECT current_user, session_user, rolsuper FROM pg_roles "
                                "WHERE rolname = current_user")).one()
        conn.rollback()
    assert who == ("dealtrail_app", "dealtrail_app", False)


@pytest.mark.parametrize("statement", [
    "UPDATE events.event SET type = 'x'", "DELETE FROM events.event", "TRUNCATE events.event",
    "SET ROLE postgres", "SET session_replication_role = replica", "CREATE ROLE mallory SUPERUSER"])
def test_after_reset_role_the_services_still_cannot(engine, statement):
    with engine.connect() as conn:
        conn.execute(text("RESET ROLE"))
        with pytest.raises(DBAPIError) as caught:
            conn.execute(text(statement))
        conn.rollback()
    assert caught.value.orig.pgcode == "42501"  # insufficient_privilege


def bi_connect(engine, password):
    return psycopg2.connect(logins.login_url(owner_url(engine), logins.BI_LOGIN, password)
                            .replace("postgresql+psycopg2://", "postgresql://"))


def test_bi_logs_in_with_its_password_and_reads_read_models_only(engine, databases):
    conn = bi_connect(engine, databases.passwords.bi)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("RESET ROLE")
        cur.execute("SELECT count(*) FROM read_models.deal_current")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT * FROM events.event")
    conn.close()


def test_a_wrong_password_is_refused(engine):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        bi_connect(engine, "not-the-password")


def test_embedded_passwords_are_generated_once_into_a_private_file(tmp_path):
    first = logins.load_or_create(tmp_path)
    assert stat.S_IMODE((tmp_path / logins.SECRETS_FILE).stat().st_mode) == 0o600
    assert logins.load_or_create(tmp_path) == first and first.app != first.bi and len(first.app) >= 40


def test_which_url_the_services_use():
    owner = "postgresql://owner:secret@db.example:5432/dealtrail?sslmode=require"
    assert logins.for_services(Settings(DATABASE_URL=owner, DEALTRAIL_APP_DATABASE_URL="postgresql://a:b@x/y"),
                               owner) == "postgresql://a:b@x/y"
    derived = logins.for_services(Settings(DATABASE_URL=owner, DEALTRAIL_APP_PASSWORD="p@ss/w"), owner)
    assert derived == "postgresql://dealtrail_app:p%40ss%2Fw@db.example:5432/dealtrail?sslmode=require"
    assert logins.for_services(Settings(DATABASE_URL=owner)) == owner  # with a warning
    assert logins.for_services(Settings(DEALTRAIL_APP_DATABASE_URL="postgresql://a:b@x/y")) == "postgresql://a:b@x/y"
    assert logins.for_services(Settings()) is None


def test_cli_migrate_sets_the_configured_passwords_and_services_need_only_the_app_url(databases):
    """An external database: `migrate` runs as the owner and gives the roles the operator's
    passwords; a service given only DEALTRAIL_APP_DATABASE_URL never sees the owner's URL."""
    owner = databases.empty()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DEALTRAIL_"))}
    env = {**base, "DATABASE_URL": owner, "DEALTRAIL_APP_PASSWORD": databases.passwords.app,
           "DEALTRAIL_BI_PASSWORD": databases.passwords.bi}
    done = subprocess.run([sys.executable, "-m", "services.cli", "migrate"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    env = {**base, "DEALTRAIL_APP_DATABASE_URL": databases.app_url(owner)}
    done = subprocess.run([sys.executable, "-m", "services.cli", "verify"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and '"ok": true' in done.stdout, done.stdout + done.stderr
