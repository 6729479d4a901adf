"""Cost of `verify`'s ledger pass (events.ledger_leaves.check_leaves) beside the chain pass, as
the log grows: time, and the Python heap's peak (tracemalloc) of each. Flat memory means
streaming. The rows are bench.ledger's (no real chains: the chain pass finds them broken, which
costs it the same). Asserts nothing. `python -m bench.verify_ledger --events 1000000`."""
import argparse
import time
import tracemalloc
import uuid

from sqlalchemy import text

from bench.ledger import _FILL, scratch_engine
from events import ledger
from events.ledger_leaves import Anchor, check_leaves
from events.verify import verify_chains


def _measured(run):
    """(result, seconds untraced, peak bytes of a second, traced run): tracing slows Python."""
    start = time.perf_counter()
    result = run()
    spent = time.perf_counter() - start
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, spent, peak


def measure(engine, total: int, step: int) -> None:
    for done in range(step, total + 1, step):
        with engine.begin() as conn:
            conn.execute(text(_FILL), {"n": step, "tag": uuid.uuid4().hex[:8]})
        head = ledger.extend(engine, batch=10_000)
        _, chains, chains_peak = _measured(lambda: verify_chains(engine))

        def leaves(head=head):
            with engine.connect() as conn:
                return check_leaves(conn, head.tree_size, head.last_position,
                                    [Anchor(head.tree_size, head.root_hash, "the head")])
        checked, spent, peak = _measured(leaves)
        assert checked.ok, checked.mismatch
        print(f"log {done:>9,}: chains {chains:6.1f} s (peak {chains_peak / 2**20:5.1f} MiB); "
              f"ledger {spent:6.1f} s (peak {peak / 2**20:5.1f} MiB, {checked.checked / spent:,.0f} leaves/s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--step", type=int, default=250_000)
    args = parser.parse_args()
    with scratch_engine() as engine:
        measure(engine, args.events, args.step)


if __name__ == "__main__":
    main()
