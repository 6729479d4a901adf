"""Property: for random valid histories (back-dated events, skips, regressions, reopens,
voids, owner changes), the read models projected incrementally through Kafka equal a rebuild
from scratch and a replay until the end."""
import uuid

import pytest
from hypothesis import HealthCheck, given, settings

from events.log_reader import settled_horizon
from projections.read_models import SALES
from projections.runtime import rebuild
from tests.integration.strategies import histories, play
from tests.integration.worker_helpers import rebuilt, start_relay, start_worker, tables, wait_caught_up


@pytest.fixture(scope="module")
def pipeline(databases, broker_bootstrap):
    from infra.db import make_engine
    engine = make_engine(databases.app_url(databases.fresh()), app_role="dealtrail_app")
    topic, group = f"t-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    relay = start_relay(engine, broker_bootstrap, topic)
    worker = start_worker(engine, broker_bootstrap, topic, group)
    yield engine
    worker.halt()
    relay.halt()
    engine.dispose()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                              HealthCheck.too_slow])
@given(history=histories())
def test_incremental_equals_rebuild_equals_replay(pipeline, history):
    play(pipeline, history)
    wait_caught_up(pipeline)
    live = tables(pipeline)
    assert live == rebuilt(pipeline)
    replayed = rebuild.replay(SALES, pipeline, until_position=settled_horizon(pipeline))
    assert live == tables(pipeline, replayed)
