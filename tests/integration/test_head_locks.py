"""An append's head locks: held without rewriting the heads, read at their latest version, and
safe under concurrent overlapping batches (no deadlock, no lost or repeated version)."""
import random
import threading

import pytest
from psycopg2.errors import LockNotAvailable
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from events import store
from events.verify import verify_chains
from tests import factories as f
from tests.integration.helpers import lock_waits
from tests.integration.relay_helpers import append
from tests.integration.relay_helpers import contacts_in_open_transaction as contacts
from tests.waiting import PATIENCE, until


def head_xmin(conn, deal_id: str) -> str:
    return conn.execute(text("SELECT xmin::text FROM events.stream_head WHERE deal_id = :d"), {"d": deal_id}).scalar()


def test_locking_an_existing_head_holds_it_without_writing_it(fresh_engine):
    append(fresh_engine, "a", f.created())
    with fresh_engine.connect() as holder, fresh_engine.connect() as other:
        before = head_xmin(holder, "a")
        locked = store.lock_heads(holder, {"a"}, 1)
        assert locked.heads["a"].version == 1
        assert head_xmin(holder, "a") == before  # no new version of the head was written
        with pytest.raises(OperationalError) as held:
            other.execute(text("SELECT 1 FROM events.stream_head WHERE deal_id = 'a' FOR UPDATE NOWAIT"))
        assert isinstance(held.value.orig, LockNotAvailable)
        holder.rollback()


@pytest.mark.parametrize("existing", [True, False], ids=["existing head", "head created by the writer"])
def test_a_head_moved_while_waiting_for_its_lock_is_read_at_its_latest_version(fresh_engine, existing):
    if existing:
        append(fresh_engine, "a", f.created())
    got = {}
    with fresh_engine.connect() as first, fresh_engine.connect() as second:
        [written] = contacts(first, ["a"])  # holds the head (creating it if new), not committed

        def wait_for_it():
            got["locked"] = store.lock_heads(second, {"a"}, 1)
        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        until(lambda: lock_waits(fresh_engine) or not waiter.is_alive(), message="the second writer waits")
        assert waiter.is_alive(), "the second writer did not wait for the head"
        first.commit()
        waiter.join(PATIENCE)
        assert not waiter.is_alive()
        head = got["locked"].heads["a"]
        assert (head.version, head.last_hash) == (written.stream_version, written.hash)
        assert got["locked"].positions[0] > written.position
        second.rollback()


def test_overlapping_concurrent_batches_keep_every_stream_gap_free(fresh_engine):
    deals = [f"d{i}" for i in range(8)]
    for d in deals[:4]:  # half exist, half are created by whichever batch comes first
        append(fresh_engine, d, f.created())
    errors, written = [], []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with fresh_engine.connect() as conn:
                for _ in range(25):
                    envs = contacts(conn, rng.sample(deals, rng.randint(1, 5)))
                    conn.commit()
                    written.extend(envs)
        except Exception as exc:  # a deadlock or a duplicate version fails the test below
            errors.append(exc)
    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * PATIENCE)
    assert errors == []
    by_deal: dict[str, list[int]] = {}
    for env in written:
        by_deal.setdefault(env.deal_id, []).append(env.stream_version)
    first = {d: 2 if i < 4 else 1 for i, d in enumerate(deals)}
    assert {d: sorted(v) for d, v in by_deal.items()} == {
        d: list(range(first[d], first[d] + len(v))) for d, v in by_deal.items()}
    assert verify_chains(fresh_engine).ok
