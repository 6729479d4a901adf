"""Projection workers against the real broker: several in one group, one killed mid-batch."""
import os
import signal
import subprocess
import sys
import uuid

from sqlalchemy import text

from tests.integration.relay_helpers import wait_for
from tests.integration.worker_helpers import (
    caught_up,
    rebuilt,
    start_relay,
    start_worker,
    tables,
    wait_caught_up,
    workload,
)


def test_two_workers_split_partitions_and_match_a_rebuild(fresh_engine, broker):
    topic, group = f"t-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    relay = start_relay(fresh_engine, broker.bootstrap, topic)
    workers = [start_worker(fresh_engine, broker.bootstrap, topic, group) for _ in range(2)]
    try:
        workload(fresh_engine)
        wait_caught_up(fresh_engine)
    finally:
        for w in workers:
            w.halt()
        relay.halt()
    assert all(w.worker.applied_batches > 0 for w in workers), "both workers should have had partitions"
    assert tables(fresh_engine) == rebuilt(fresh_engine)


def _worker_process(engine, bootstrap, topic, group):
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "DEALTRAIL_TOPIC": topic}
    code = ("import sys, threading; "
            "from infra.db import make_engine; from projections.runtime.worker import Worker; "
            "from projections.read_models import SALES; "
            "Worker(SALES, make_engine(sys.argv[1], app_role='dealtrail_app'), sys.argv[2], sys.argv[3], sys.argv[4])"
            ".run(threading.Event())")
    return subprocess.Popen([sys.executable, "-c", code, env["DATABASE_URL"], bootstrap, topic, group],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_worker_killed_mid_batch_loses_and_doubles_nothing(fresh_engine, broker):
    topic, group = f"t-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    workload(fresh_engine, deals=1500)
    relay = start_relay(fresh_engine, broker.bootstrap, topic)
    proc = _worker_process(fresh_engine, broker.bootstrap, topic, group)

    def started():  # some streams applied (the watermark moves only once a prefix of the log is)
        with fresh_engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM read_models.projection_stream")).scalar() > 0
    try:
        wait_for(started, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not caught_up(fresh_engine), "the kill should land before the worker caught up"
        proc = _worker_process(fresh_engine, broker.bootstrap, topic, group)
        wait_caught_up(fresh_engine, timeout=120)
    finally:
        proc.kill()
        proc.wait()
        relay.halt()
    assert tables(fresh_engine) == rebuilt(fresh_engine)
