"""The global log is read in commit order with no gaps and no skipped late commits."""
import random
import threading
import time
from collections import defaultdict

from sqlalchemy import text

from events.log_reader import read_committed
from events.schema import event_adapter
from services.appending import Command, append_events
from tests import factories as f
from tests.integration.helpers import a_reader_waits_for_older_transactions
from tests.integration.relay_helpers import CTX, append, contacts_in_open_transaction
from tests.waiting import PATIENCE, until


def append_in_open_transaction(conn, deal_id):
    """Append a contact to an existing deal inside `conn`'s transaction; the caller commits."""
    [env] = contacts_in_open_transaction(conn, [deal_id])
    return env


def test_late_commit_is_not_skipped(fresh_engine):
    append(fresh_engine, "a", f.created())
    append(fresh_engine, "b", f.created())
    first = read_committed(fresh_engine, 0, 100)
    assert [e.deal_id for e in first.envelopes] == ["pipeline:default", "a", "b"]
    with fresh_engine.connect() as slow:
        slow_env = append_in_open_transaction(slow, "a")      # takes position 3, not committed
        fast_env = append(fresh_engine, "b", f.contact())     # position 4, committed
        assert fast_env.position > slow_env.position
        page = read_committed(fresh_engine, first.through, 100, wait_seconds=0.2)
        assert page.envelopes == [] and page.through == first.through
        slow.commit()
    page = read_committed(fresh_engine, first.through, 100)
    assert [e.position for e in page.envelopes] == [slow_env.position, fast_env.position]


def test_rolled_back_positions_are_skipped_as_holes(fresh_engine):
    append(fresh_engine, "a", f.created())
    with fresh_engine.connect() as aborted:
        append_in_open_transaction(aborted, "a")
        later = append(fresh_engine, "b", f.created())
        aborted.rollback()
    page = read_committed(fresh_engine, 0, 100)
    assert [e.deal_id for e in page.envelopes] == ["pipeline:default", "a", "b"]
    assert page.through == later.position


def test_waits_for_a_slow_writer_then_returns_everything(fresh_engine):
    created = append(fresh_engine, "a", f.created())
    results = {}
    with fresh_engine.connect() as slow:
        held = append_in_open_transaction(slow, "a")
        append(fresh_engine, "c", f.created())
        reader = threading.Thread(target=lambda: results.update(  # its wait outlasts any delay here
            page=read_committed(fresh_engine, created.position, 100, wait_seconds=PATIENCE)))
        reader.start()
        until(lambda: a_reader_waits_for_older_transactions(fresh_engine), message="the reader waits")
        slow.commit()
        reader.join(PATIENCE)
    assert [e.position for e in results["page"].envelopes][:1] == [held.position]
    assert len(results["page"].envelopes) == 2


def test_concurrent_writers_and_reader_never_miss_or_reorder(fresh_engine):
    deals = [f"d{i}" for i in range(12)]
    for deal in deals:
        append(fresh_engine, deal, f.created())
    stop, errors, commits, batch_commits = threading.Event(), [], [], []
    lock = threading.Lock()

    def batch_writer(seed):
        rng = random.Random(seed)
        try:
            for _ in range(25):
                picked = rng.sample(deals, rng.randint(1, 5))
                commands = [Command(d, event_adapter.validate_python(f.contact())) for d in picked for _ in range(2)]
                rng.shuffle(commands)
                results = append_events(fresh_engine, commands, CTX, currency="USD", batch=True)
                with lock:
                    batch_commits.append((time.monotonic(), max(r.envelope.position for r in results)))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    def slow_writer(seed):
        rng = random.Random(seed)
        try:
            for i in range(12):
                with fresh_engine.connect() as conn:
                    env = append_in_open_transaction(conn, rng.choice(deals))
                    conn.execute(text("SELECT pg_sleep(0.02)"))  # on purpose: holds its position while others commit
                    if i % 3 == 0:
                        conn.rollback()
                        continue
                    conn.commit()
                with lock:
                    commits.append((time.monotonic(), env.position))
        except Exception as exc:
            errors.append(exc)

    seen = []

    def reader():
        after = 0
        while True:
            done = stop.is_set()
            page = read_committed(fresh_engine, after, 200)
            seen.extend(page.envelopes)
            after = page.through
            if done and not page.envelopes:
                return
            time.sleep(0.001)

    writers = [threading.Thread(target=batch_writer, args=(i,)) for i in range(6)]
    writers += [threading.Thread(target=slow_writer, args=(100 + i,)) for i in range(2)]
    read_thread = threading.Thread(target=reader)
    read_thread.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    stop.set()
    read_thread.join(PATIENCE)
    assert not errors, errors
    assert not any(t.is_alive() for t in (*writers, read_thread)), "a writer or the reader hangs"

    with fresh_engine.connect() as conn:
        stored = conn.execute(text("SELECT position, event_id::text FROM events.event ORDER BY position")).all()
        max_position = conn.execute(text("SELECT max(position) FROM events.event")).scalar()
    positions = [e.position for e in seen]
    assert positions == sorted(set(positions)), "reordered or duplicated"
    assert [e.event_id for e in seen] == [r.event_id for r in stored], "missed an event"
    assert max_position > len(stored), "the workload should have left holes (rollbacks)"
    assert any(bp > sp and bt < st for st, sp in commits for bt, bp in batch_commits), \
        "the workload should have committed a lower position after a higher one"
    versions = defaultdict(list)
    for env in seen:
        versions[env.deal_id].append(env.stream_version)
    for deal, vs in versions.items():
        assert vs == list(range(1, len(vs) + 1)), f"{deal} out of order: {vs}"
