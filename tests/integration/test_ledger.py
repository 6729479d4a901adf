"""The Merkle tree kept in audit.* is the RFC 9162 tree of the committed log in position order,
whatever the batch size, with late commits and concurrent writers; its tables are append-only."""
import threading

import psycopg2
import pytest
from sqlalchemy import text

from events import ledger
from events.merkle import root_of
from tests import factories as f
from tests.integration.ledger_helpers import all_envelopes, leaves
from tests.integration.relay_helpers import append
from tests.integration.test_immutability import app_conn, owner_conn
from tests.integration.test_log_order import append_in_open_transaction


def grow(engine, deals: int, prefix: str) -> None:
    for i in range(deals):
        append(engine, f"{prefix}{i}", f.created())
        append(engine, f"{prefix}{i}", f.contact())


@pytest.mark.parametrize("batch", [1, 3, 2000])
def test_tree_equals_the_root_of_every_event_hash_at_several_sizes(fresh_engine, batch):
    for step in range(4):
        grow(fresh_engine, step * 3 + 1, f"s{step}-")
        head = ledger.extend(fresh_engine, batch=batch)
        expected = leaves(fresh_engine)
        assert head.tree_size == len(expected)
        assert head.root_hash == root_of(expected)
        assert head.last_position == all_envelopes(fresh_engine)[-1].position
    with fresh_engine.connect() as conn:
        for size in (1, 2, 7, head.tree_size):
            assert ledger.root_at(conn, size) == root_of(expected[:size])


def test_a_late_commit_is_waited_for_not_skipped(fresh_engine):
    append(fresh_engine, "late", f.created())
    ledger.extend(fresh_engine)
    conn = fresh_engine.connect()
    trans = conn.begin()
    late = append_in_open_transaction(conn, "late")   # takes a position, commits last
    append(fresh_engine, "early", f.created())
    head = ledger.extend(fresh_engine, wait_seconds=0.2)
    assert head.last_position < late.position        # stopped before the open position
    trans.commit()
    conn.close()
    head = ledger.extend(fresh_engine)
    assert head.root_hash == root_of(leaves(fresh_engine))


def test_concurrent_appends_and_extenders_build_the_same_tree(fresh_engine):
    errors = []

    def writer(n):
        try:
            grow(fresh_engine, 8, f"w{n}-")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def extender(stop):
        while not stop.is_set():
            ledger.extend(fresh_engine, batch=5, wait_seconds=1.0)

    stop = threading.Event()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    extenders = [threading.Thread(target=extender, args=(stop,)) for _ in range(2)]
    for t in writers + extenders:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in extenders:
        t.join()
    assert not errors
    head = ledger.extend(fresh_engine)
    envelopes = all_envelopes(fresh_engine)
    assert head.tree_size == len(envelopes) and head.root_hash == root_of(leaves(fresh_engine))
    with fresh_engine.connect() as conn:
        ranked = conn.execute(text("SELECT position FROM audit.leaf ORDER BY leaf_index")).scalars().all()
    assert ranked == [env.position for env in envelopes]


@pytest.mark.parametrize("table", ["merkle_node", "leaf", "digest"])
def test_audit_tables_are_append_only(fresh_engine, table):
    grow(fresh_engine, 1, "a")
    ledger.extend(fresh_engine)
    with app_conn(fresh_engine).cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(f"DELETE FROM audit.{table}")
    with owner_conn(fresh_engine).cursor() as cur:
        with pytest.raises(psycopg2.errors.RestrictViolation, match="append-only"):
            cur.execute(f"TRUNCATE audit.{table}")
