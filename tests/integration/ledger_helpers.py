"""The log's leaves as an auditor recomputes them, and a superuser's consistent rewrite."""
import dataclasses

from sqlalchemy import select, text

from events import ledger
from events.canonical import GENESIS_HASH
from events.envelope import envelope_from_row
from events.merkle import event_leaf_hash
from events.tables import ENVELOPE_COLUMNS, event
from infra.db import make_engine
from tests.owners import owner_url


def all_envelopes(engine):
    with engine.connect() as conn:
        return [envelope_from_row(r) for r in conn.execute(
            select(*ENVELOPE_COLUMNS).order_by(event.c.position)).mappings()]


def leaves(engine):
    return [event_leaf_hash(env.hash) for env in all_envelopes(engine)]


def rewrite_consistently(engine, deal_id: str, version: int, change, rebuild_tree: bool = True) -> None:
    """What a superuser can do: with triggers off, change one event's data, re-hash the deal's
    chain and its stream_head (so `dealtrail verify` still says ok), then rebuild the audit
    tables from the rewritten log so they are consistent with it too."""
    owner = make_engine(owner_url(engine), pool_size=1)
    try:
        with owner.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            _rehash(conn, deal_id, version, change)
            if not rebuild_tree:
                return
            conn.execute(text("DELETE FROM audit.merkle_node; DELETE FROM audit.leaf; "
                              "UPDATE audit.merkle_frontier SET tree_size = 0, last_position = 0, "
                              "frontier = '{\"tree_size\": 0, \"hashes\": []}'"))
        ledger.extend(owner)
    finally:
        owner.dispose()


def _rehash(conn, deal_id, version, change) -> None:
    rows = conn.execute(select(*ENVELOPE_COLUMNS).where(event.c.deal_id == deal_id)
                        .order_by(event.c.stream_version)).mappings()
    prev = GENESIS_HASH
    for env in [envelope_from_row(r) for r in rows]:
        data = change(env.data) if env.stream_version == version else env.data
        new = dataclasses.replace(env, data=data, prev_hash=prev, hash="")
        prev = new.computed_hash()
        conn.execute(event.update().where(event.c.position == env.position)
                     .values(data=data, prev_hash=new.prev_hash, hash=prev))
    conn.execute(text("UPDATE events.stream_head SET last_hash = :h WHERE deal_id = :d"),
                 {"h": prev, "d": deal_id})
