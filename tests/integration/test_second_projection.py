"""The runtime (worker, rebuild, replay) runs a projection it has never heard of: one defined here,
counting each stream's events per type into a table of its own, with its own checkpoints, beside
the sales projection (which it leaves as it was)."""
import uuid

from sqlalchemy import text

from events.log_reader import settled_horizon
from infra import coordination
from infra.db import make_engine
from projections.read_models import SALES
from projections.runtime import checkpoints, rebuild
from projections.runtime.names import schema_name
from projections.runtime.quarantine import stream_failure
from projections.runtime.worker import Worker
from tests.integration.relay_helpers import wait_for
from tests.integration.worker_helpers import (
    Running,
    caught_up,
    start_relay,
    start_worker,
    tables,
    wait_caught_up,
    workload,
)
from tests.owners import owner_url

_COUNT = """
INSERT INTO {s}.event_type_count (stream_id, type, events)
SELECT e.deal_id, e.type, count(*)
FROM unnest(%(ids)s::text[], %(upto)s::bigint[]) AS t(stream_id, upto)
JOIN events.event e ON e.deal_id = t.stream_id AND e.position <= t.upto
GROUP BY e.deal_id, e.type
"""


class EventTypeCounts:
    """Events per stream and type. A stream's rows are a function of its events (recounted)."""
    name = "event_type_counts"
    lock = coordination.PROJECTION_SALES  # locks are tables a migration made: a test's projection shares one
    build_schema = "event_type_counts_build"
    snapshot_every = None

    def create_tables(self, conn, schema):
        conn.exec_driver_sql(f"CREATE TABLE {schema_name(schema)}.event_type_count (stream_id text, type text, "
                             "events bigint NOT NULL, PRIMARY KEY (stream_id, type))")

    def apply(self, conn, schema, upto):
        s = schema_name(schema)
        conn.exec_driver_sql(f"DELETE FROM {s}.event_type_count WHERE stream_id = ANY(%(ids)s)", {"ids": list(upto)})
        conn.exec_driver_sql(_COUNT.format(s=s), {"ids": list(upto), "upto": list(upto.values())})
        checkpoints.mark_streams(conn, self.name, upto, schema)
        return []

    def give_up(self, conn, schema, stream_id, position, exc):
        checkpoints.mark_streams(conn, self.name, {stream_id: position}, schema)
        return stream_failure(stream_id, position, exc)

    def derive(self, conn, schema, scanned, progress):
        upto = {}
        for stream_id, _, _, _, position, *_ in scanned:
            upto[stream_id] = position
        self.apply(conn, schema, upto)
        progress(len(upto))

    def finish(self, engine, schema, upto, snapshot_every):
        pass

    def swap_in(self, conn, schema):
        conn.exec_driver_sql("DROP TABLE read_models.event_type_count")
        conn.exec_driver_sql(f"ALTER TABLE {schema_name(schema)}.event_type_count SET SCHEMA read_models")
        conn.exec_driver_sql("GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.event_type_count TO dealtrail_app")

    def snapshot(self, conn, every):
        return False


COUNTS = EventTypeCounts()
_EXPECTED = text("SELECT deal_id, type, count(*) FROM events.event WHERE position <= :p GROUP BY 1, 2 ORDER BY 1, 2")


def _counts(engine, schema="read_models"):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            f"SELECT stream_id, type, events FROM {schema}.event_type_count ORDER BY 1, 2")]


def _expected(engine):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(_EXPECTED, {"p": settled_horizon(engine)})]


def _marks(engine, projection):
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT stream_id, position FROM read_models.projection_stream "
                                      "WHERE projection = :p"), {"p": projection}).all())


def _counted(engine) -> bool:
    with engine.connect() as conn:
        through = checkpoints.applied_through(conn, COUNTS.name)
    return through >= settled_horizon(engine) and _counts(engine) == _expected(engine)


def test_worker_and_rebuild_run_a_projection_they_do_not_know(fresh_engine, broker):
    owner = make_engine(owner_url(fresh_engine), pool_size=2)
    with owner.begin() as conn:
        COUNTS.create_tables(conn, "read_models")
        conn.exec_driver_sql("GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.event_type_count TO dealtrail_app")
    topic = f"t-{uuid.uuid4().hex[:8]}"
    relay = start_relay(fresh_engine, broker.bootstrap, topic)
    sales = start_worker(fresh_engine, broker.bootstrap, topic, f"g-{uuid.uuid4().hex[:8]}")
    counts = Running(Worker(COUNTS, fresh_engine, broker.bootstrap, topic, f"c-{uuid.uuid4().hex[:8]}").run)
    try:
        workload(fresh_engine, deals=40)
        wait_caught_up(fresh_engine)
        wait_for(lambda: _counted(fresh_engine), timeout=90)
    finally:
        counts.halt()
        sales.halt()
        relay.halt()
    expected = _expected(fresh_engine)
    assert len(expected) > 40 and _counts(fresh_engine) == expected
    counted, sold = _marks(fresh_engine, COUNTS.name), _marks(fresh_engine, SALES.name)
    assert counted == sold and len([s for s in counted if s.startswith("w")]) == 40  # each marked every stream
    sales_rows = tables(fresh_engine)

    with owner.begin() as conn:  # lose the counts: a rebuild must derive them from the log alone
        conn.exec_driver_sql("DELETE FROM read_models.event_type_count")
    through = rebuild.rebuild(COUNTS, owner)
    assert _counts(fresh_engine) == expected
    with fresh_engine.connect() as conn:
        assert checkpoints.read(conn, COUNTS.name)[checkpoints.FLOOR] == through
    assert _marks(fresh_engine, COUNTS.name) == counted
    assert tables(fresh_engine) == sales_rows and caught_up(fresh_engine)  # sales untouched, its marks kept

    rebuild.rebuild(SALES, owner)  # and the other way round: the counts' marks survive a sales rebuild
    assert _marks(fresh_engine, COUNTS.name) == counted and _counts(fresh_engine) == expected
    assert tables(fresh_engine) == sales_rows
    schema = rebuild.replay(COUNTS, owner)
    assert _counts(fresh_engine, schema) == expected
    owner.dispose()
