"""Live apply resumes each deal from its stored point when its new events come later in
business time, and derives it from the whole stream otherwise; either way the read models
equal a rebuild, and the stored points equal what a full derivation ends at."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from domain.pipelines import PIPELINES
from events import store
from infra import jsontext
from projections import sales_projection as sales
from projections.deals import points
from projections.deals.rows import derive
from projections.runtime import checkpoints
from projections.tables.groups import POINT_TABLE
from tests.integration.projection_helpers import History
from tests.integration.strategies import histories, play
from tests.integration.worker_helpers import rebuilt, tables


def apply_in_polls(engine, sizes) -> None:
    """Apply the log in position order like the worker: polls of the given sizes (cycled)."""
    with engine.connect() as conn:
        log = conn.execute(text("SELECT deal_id, position FROM events.event ORDER BY position")).all()
    start, n = 0, 0
    while start < len(log):
        size = sizes[n % len(sizes)]
        upto: dict[str, int] = {}
        for deal_id, position in log[start:start + size]:
            upto[deal_id] = position
        with engine.begin() as conn:
            applied = checkpoints.applied_streams(conn, sales.NAME, list(upto))
            sales.apply(conn, "read_models", {d: p for d, p in upto.items() if p > applied.get(d, 0)})
            checkpoints.advance_watermark(conn, sales.NAME)
        start, n = start + size, n + 1


def assert_points_are_full_derivations(engine) -> int:
    """Each stored point equals the point of deriving its deal from every event it reflects."""
    with engine.connect() as conn:
        stored = conn.exec_driver_sql(f"SELECT deal_id, point FROM read_models.{POINT_TABLE}").all()
        for deal_id, data in stored:
            point = points.loads(data)
            events = [sales.to_ev(e.event_id, e.type, e.stream_version, e.position, e.occurred_at, e.data,
                                  e.schema_version, e.recorded_at)
                      for e in store.read_stream(conn, deal_id) if e.position <= point.position]
            assert points.to_json(derive(deal_id, events, PIPELINES).point) == jsontext.loads(data), deal_id
    return len(stored)


def test_in_order_events_resume_and_equal_a_rebuild(fresh_engine):
    engine = fresh_engine
    h = History(engine)
    for n in range(6):
        deal = f"r{n}"
        h.create(deal, n, owner=f"o{n % 2}")
        h.post(deal, "deal.contact_logged", n + 1, channel="call")
        h.move(deal, n + 2, "lead", "contacted")
        h.post(deal, "deal.quote_issued", n + 3, quote_id="q", amount="1500", currency="USD")
        h.post(deal, "deal.owner_changed", n + 4, owner_id="o9", team_id="t9")
        h.move(deal, n + 5, "contacted", "proposal")
        if n % 3 == 0:
            h.sign(deal, n + 6)
            h.post(deal, "deal.feedback_recorded", n + 7, score=4)
        elif n % 3 == 1:
            h.lose(deal, n + 6)
            h.post(deal, "deal.reopened", n + 8, to_stage="negotiation")
    before_resumed, before_derived = sales.Paths.resumed, sales.Paths.derived
    apply_in_polls(engine, [1])
    assert sales.Paths.derived - before_derived == 6  # each deal's creation
    assert sales.Paths.resumed - before_resumed > 30  # every later event folded on its own
    assert tables(engine) == rebuilt(engine)
    assert assert_points_are_full_derivations(engine) == 6


def test_back_dated_events_and_voids_derive_the_whole_deal_but_contacts_resume(fresh_engine):
    engine = fresh_engine
    h = History(engine)
    h.create("b1", 0, owner="o1")
    h.post("b1", "deal.owner_changed", 8, owner_id="o2", team_id="t2")
    h.move("b1", 10, "lead", "contacted")
    apply_in_polls(engine, [1])
    resumed, derived = sales.Paths.resumed, sales.Paths.derived
    h.post("b1", "deal.contact_logged", 5, channel="call")  # back-dated: before the owner change
    quote = h.post("b1", "deal.quote_issued", 11, quote_id="q", amount="700", currency="USD")
    apply_in_polls(engine, [1])
    assert (sales.Paths.resumed - resumed, sales.Paths.derived - derived) == (2, 0)
    with engine.connect() as conn:  # attributed to the owner at the time it happened
        assert conn.execute(text("SELECT owner_id FROM read_models.deal_activity WHERE deal_id = 'b1' "
                                 "AND kind = 'contact'")).scalar() == "o1"
    h.post("b1", "deal.quote_issued", 3, quote_id="q0", amount="500", currency="USD")  # back-dated quote
    h.post("b1", "event.voided", 12, event_id=quote.event_id, reason="typo")
    apply_in_polls(engine, [1])
    assert sales.Paths.derived - derived == 2
    assert tables(engine) == rebuilt(engine)
    assert_points_are_full_derivations(engine)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                               HealthCheck.too_slow])
@given(history=histories(), sizes=st.lists(st.integers(1, 7), min_size=1, max_size=4))
def test_any_history_in_any_polls_equals_a_rebuild(databases, history, sizes):
    from infra.db import make_engine
    engine = make_engine(databases.app_url(databases.fresh()), app_role="dealtrail_app")
    try:
        play(engine, history)
        apply_in_polls(engine, sizes)
        assert tables(engine) == rebuilt(engine)
        assert_points_are_full_derivations(engine)
    finally:
        engine.dispose()


def test_roll_ups_follow_what_a_resumed_event_changes(fresh_engine):
    """A resumed deal's rows are re-written whole; its open spans and dwell rows are refreshed
    when its visits, amounts, owner, team or segment changed (a contact changes none of them)."""
    engine = fresh_engine
    h = History(engine)
    h.create("s1", 0, owner="o1", segment="smb")
    h.move("s1", 1, "lead", "contacted")
    h.create("s2", 0, owner="o1", segment="smb")
    h.sign("s2", 2)
    apply_in_polls(engine, [1])
    resumed = sales.Paths.resumed
    h.post("s1", "deal.updated", 3, customer={"segment": "enterprise"})
    h.post("s1", "deal.contact_logged", 4, channel="call")
    h.post("s2", "deal.feedback_recorded", 6, score=5)
    apply_in_polls(engine, [1])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT DISTINCT segment FROM read_models.funnel_open_span "
                                 "WHERE deal_id = 's1'")).scalars().all() == ["enterprise"]
    assert tables(engine) == rebuilt(engine)
    h.post("s1", "deal.updated", 5, expected_amount="2500", currency="USD")
    apply_in_polls(engine, [1])
    assert sales.Paths.resumed - resumed == 4
    assert tables(engine) == rebuilt(engine)
