"""Group commit of single-event posts: concurrent posts share a transaction, yet each is
answered as if it had been posted alone, in arrival order."""
import re
import threading
import uuid
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine.base import RootTransaction
from sqlalchemy.exc import OperationalError

from events.verify import verify_chains
from infra.settings import Settings
from services.api.app import create_app
from services.group_commit import _Kept
from tests import factories as f
from tests.integration.helpers import assert_error, post
from tests.keys import admin_headers, key_headers
from tests.waiting import until


@pytest.fixture()
def app(fresh_engine):
    """One flusher, so posts that arrive while it is busy must wait and go together."""
    return create_app(Settings(DATABASE_URL="unused", DEALTRAIL_GROUP_COMMIT_FLUSHERS=1), engine=fresh_engine)


@pytest.fixture()
def client(app, fresh_engine):
    with TestClient(app, headers=admin_headers(fresh_engine)) as c:
        yield c


def _wait(condition, what: str) -> None:
    until(condition, interval=0.005, message=f"gave up waiting for {what}")


@contextmanager
def head_locked(engine, deal_id):
    """Hold the stream head of `deal_id` locked (the flusher appending to it waits)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1 FROM events.stream_head WHERE deal_id = :d FOR UPDATE"), {"d": deal_id})
        yield
        conn.rollback()


def _lock_waits(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one()


class Queued:
    """Posts sent from threads, each queued before the next is sent (so arrival order is known)."""

    def __init__(self, client, appender):
        self.client, self.appender = client, appender
        self.threads, self.responses = [], []

    def post(self, deal_id, body, queues=True, **headers):
        index, before = len(self.responses), self.appender.queued
        self.responses.append(None)

        def send():
            self.responses[index] = post(self.client, deal_id, body, **headers)
        thread = threading.Thread(target=send)
        thread.start()
        self.threads.append(thread)
        if queues:
            _wait(lambda: self.appender.queued == before + 1, "the post to be queued")
        return index

    def join(self):
        for thread in self.threads:
            thread.join()
        return self.responses


def _group_of(client, app, fresh_engine, send_all):
    """Block the only flusher on a held head lock, queue what `send_all(queued)` posts, release:
    the queued posts are committed in one transaction."""
    blocker = f"deal-{uuid.uuid4().hex[:12]}"
    assert post(client, blocker, f.created()).status_code == 201
    appender = app.state.appender
    queued = Queued(client, appender)
    with head_locked(fresh_engine, blocker):
        first = queued.post(blocker, f.contact(), queues=False)
        _wait(lambda: _lock_waits(fresh_engine) > 0, "the flusher to wait for the head lock")
        before = (appender.stats.groups, appender.stats.requests)
        send_all(queued)
    responses = queued.join()
    assert responses[first].status_code == 201
    return responses, before, appender.stats


def test_one_group_answers_each_post_on_its_own(app, client, fresh_engine):
    x, z, missing = (f"deal-{uuid.uuid4().hex[:12]}" for _ in range(3))
    other_writer = key_headers(fresh_engine, "writer", owner_id="rep-other")
    event_id = str(uuid.uuid4())
    future = "2999-01-01T00:00:00Z"
    sent = {}

    def send_all(q):
        sent["create"] = q.post(x, f.created())
        sent["move"] = q.post(x, f.moved("lead", "contacted", expected_version=1))
        sent["contact"] = q.post(x, f.contact())
        sent["missing"] = q.post(missing, f.contact())
        sent["stale_move"] = q.post(x, f.moved("lead", "proposal"))
        sent["stale_version"] = q.post(x, f.contact(expected_version=1))
        sent["before_creation"] = q.post(x, f.contact(occurred_at="2000-01-01T00:00:00Z"))
        sent["forbidden"] = q.post(x, f.contact(), **other_writer)
        sent["future"] = q.post(z, {**f.created(), "occurred_at": future})
        sent["z"] = q.post(z, {**f.created(), "event_id": event_id})
        sent["z_retry"] = q.post(z, {**f.created(), "event_id": event_id})
        sent["z_other"] = q.post(z, {**f.created(title="other"), "event_id": event_id})
        sent["last"] = q.post(x, f.contact(expected_version=3))

    responses, (groups, requests), stats = _group_of(client, app, fresh_engine, send_all)
    assert (stats.groups - groups, stats.requests - requests) == (2, len(sent) + 1)  # the blocked post, then all
    got = {name: responses[i] for name, i in sent.items()}
    assert [got[n].json()["stream_version"] for n in ("create", "move", "contact", "last")] == [1, 2, 3, 4]
    assert all(got[n].status_code == 201 for n in ("create", "move", "contact", "z", "last"))
    assert_error(got["missing"], 404, "deal_not_found")
    assert "contacted" in assert_error(got["stale_move"], 409, "stage_conflict")["message"]
    assert assert_error(got["stale_version"], 409, "version_conflict")["details"]["actual_version"] == 3
    assert_error(got["before_creation"], 409, "before_creation")
    assert_error(got["forbidden"], 403, "forbidden")
    assert_error(got["future"], 422, "occurred_at_in_future")
    assert got["z_retry"].status_code == 200 and got["z_retry"].json() == got["z"].json()
    assert_error(got["z_other"], 409, "idempotency_conflict")
    deal = client.get(f"/v1/deals/{x}").json()
    assert (deal["stage"], deal["version"]) == ("contacted", 4)
    assert [e["stream_version"] for e in client.get(f"/v1/deals/{x}/events").json()["events"]] == [1, 2, 3, 4]
    assert client.get(f"/v1/deals/{missing}").status_code == 404
    assert verify_chains(fresh_engine).ok


def test_the_group_counter_is_exposed(app, client, fresh_engine):
    deal = f"deal-{uuid.uuid4().hex[:12]}"

    def send_all(q):
        q.post(deal, f.created())
        for _ in range(5):
            q.post(deal, f.contact())

    responses, _, stats = _group_of(client, app, fresh_engine, send_all)
    assert [r.json()["stream_version"] for r in responses[1:]] == [1, 2, 3, 4, 5, 6]
    scraped = client.get("/metrics").text
    groups = float(re.search(r"^dealtrail_append_groups_total (\S+)$", scraped, re.M).group(1))
    posts = float(re.search(r"^dealtrail_append_group_posts_total (\S+)$", scraped, re.M).group(1))
    assert (groups, posts) == (stats.groups, stats.requests) and groups < posts


def test_concurrent_posts_across_and_within_deals(client, fresh_engine):
    deals = [f"deal-{uuid.uuid4().hex[:12]}" for _ in range(6)]
    for deal in deals:
        assert post(client, deal, f.created()).status_code == 201
    per_deal, threads = 12, 18
    barrier = threading.Barrier(threads)
    statuses, lock = [], threading.Lock()

    def send(i):
        barrier.wait()
        for n in range(per_deal * len(deals) // threads):
            r = post(client, deals[(i + n) % len(deals)], f.contact())
            with lock:
                statuses.append(r.status_code)
    workers = [threading.Thread(target=send, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert statuses == [201] * per_deal * len(deals)
    for deal in deals:
        versions = [e["stream_version"] for e in client.get(f"/v1/deals/{deal}/events").json()["events"]]
        assert versions == list(range(1, per_deal + 2))
    assert verify_chains(fresh_engine).ok


def _terminate(engine, where: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                 f"AND backend_type = 'client backend' AND {where}")
                            ).scalar_one()


def test_a_flusher_whose_connection_is_cut_decides_its_group_again(app, client, fresh_engine):
    """The flusher keeps its connection from group to group (no pre-ping): cut while it waits,
    the group is decided again on a new connection, once, and nothing is lost or doubled."""
    deal = f"deal-{uuid.uuid4().hex[:12]}"
    assert post(client, deal, f.created()).status_code == 201
    queued = Queued(client, app.state.appender)
    with head_locked(fresh_engine, deal):
        first = queued.post(deal, f.contact(), queues=False)
        _wait(lambda: _lock_waits(fresh_engine) > 0, "the flusher to wait for the head lock")
        assert _terminate(fresh_engine, "wait_event_type = 'Lock'") == 1
        _wait(lambda: _lock_waits(fresh_engine) > 0, "the flusher to wait again, on a new connection")
        second = queued.post(deal, f.contact())
    responses = queued.join()
    assert [responses[i].status_code for i in (first, second)] == [201, 201]
    assert [responses[i].json()["stream_version"] for i in (first, second)] == [2, 3]
    assert [e["stream_version"] for e in client.get(f"/v1/deals/{deal}/events").json()["events"]] == [1, 2, 3]
    assert verify_chains(fresh_engine).ok


def test_a_connection_lost_twice_fails_the_group(fresh_engine):
    kept, calls = _Kept(fresh_engine), []

    def lose_it(conn):
        calls.append(1)
        conn.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
    with pytest.raises(OperationalError) as lost:
        kept.transact(lose_it)
    assert lost.value.connection_invalidated and len(calls) == 2 and kept.conn is None
    assert kept.transact(lambda conn: conn.exec_driver_sql("SELECT 1").scalar()) == 1


def test_a_commit_that_fails_is_never_retried(fresh_engine, monkeypatch):
    """Lost during COMMIT, the group may have committed: deciding it again could double it."""
    kept, calls = _Kept(fresh_engine), []

    def lost(self):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"),
                               connection_invalidated=True)
    monkeypatch.setattr(RootTransaction, "commit", lost)
    with pytest.raises(OperationalError):
        kept.transact(lambda conn: calls.append(conn.exec_driver_sql("SELECT 1").scalar()))
    assert calls == [1] and kept.conn is None
