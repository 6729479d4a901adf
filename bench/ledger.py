"""Cost of extending the ledger's Merkle tree (events.ledger.extend) per batch, and of a proof,
as the log grows: flat per batch means no rescans. Asserts nothing.
`python -m bench.ledger --events 200000 --batch 2000`."""
import argparse
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from events import ledger
from infra.db import make_engine
from infra.embedded import EmbeddedPostgres
from infra.migrate import upgrade

# Rows straight into events.event (no chain: only their hashes matter to the tree).
_FILL = """
INSERT INTO events.event (event_id, deal_id, stream_version, type, occurred_at, recorded_at, actor,
                          source, data, prev_hash, hash, request_digest)
SELECT gen_random_uuid(), 'bench-' || :tag || '-' || g, 1, 'deal.contact_logged', now(), now(), 'bench',
       '/bench', '{}'::jsonb, repeat('0', 64), encode(sha256(convert_to(:tag || g, 'UTF8')), 'hex'), 'x'
FROM generate_series(1, :n) g
"""


def measure(engine, total: int, batch: int, step: int) -> None:
    for _ in range(0, total, step):
        with engine.begin() as conn:
            conn.execute(text(_FILL), {"n": step, "tag": uuid.uuid4().hex[:8]})
        start = time.perf_counter()
        head = ledger.extend(engine, batch=batch)
        spent = time.perf_counter() - start
        start = time.perf_counter()
        with engine.connect() as conn:
            ledger.inclusion(conn, head.tree_size // 3, head.tree_size)
        proof = time.perf_counter() - start
        print(f"tree {head.tree_size:>9,}: extend {step:,} events in {spent * 1000:7.1f} ms "
              f"({spent / step * batch * 1000:6.1f} ms per batch of {batch}); proof {proof * 1000:5.2f} ms")


@contextmanager
def scratch_engine() -> Iterator:
    """An owner's engine on a migrated database of a throw-away embedded PostgreSQL."""
    with tempfile.TemporaryDirectory(prefix="dealtrail-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp))
        url = server.start()
        try:
            upgrade(url)
            engine = make_engine(url, pool_size=2)
            yield engine
            engine.dispose()
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--step", type=int, default=40_000)
    args = parser.parse_args()
    with scratch_engine() as engine:
        measure(engine, args.events, args.batch, args.step)


if __name__ == "__main__":
    main()
