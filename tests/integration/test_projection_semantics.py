"""Voids, back-dated events and amounts in the read-model tables."""
from decimal import Decimal

from sqlalchemy import text

from tests.integration.projection_helpers import History, api, project_all


def rows(engine, sql, **params):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def test_void_removes_the_event_everywhere(fresh_engine):
    h = History(fresh_engine)
    h.create("v1", 0)
    moved = h.move("v1", 2, "lead", "contacted")
    h.post("v1", "event.voided", 3, event_id=moved.event_id, reason="wrong deal")
    project_all(fresh_engine)
    assert rows(fresh_engine, "SELECT stage, visit, exit_to FROM read_models.deal_stage_history") == [("lead", 1, None)]
    assert rows(fresh_engine, "SELECT stage, version FROM read_models.deal_current") == [("lead", 3)]
    body = api(fresh_engine).get("/v1/reports/funnel").json()
    assert [s["reached"] for s in body["stages"]][:2] == [1, 0]


def test_backdated_events_give_the_same_rows_as_business_order(fresh_engine):
    h = History(fresh_engine)
    h.create("in-order", 0)
    h.move("in-order", 2, "lead", "contacted")
    h.post("in-order", "deal.contact_logged", 4, channel="call")
    h.move("in-order", 6, "contacted", "proposal")
    h.create("late", 0)
    h.post("late", "deal.contact_logged", 4, channel="call")      # recorded before the move it follows
    h.move("late", 2, "lead", "contacted")                         # back-dated
    h.move("late", 6, "contacted", "proposal")
    project_all(fresh_engine)
    history = "SELECT stage, visit, entered_at, exited_at, exit_to, entered_by FROM " \
              "read_models.deal_stage_history WHERE deal_id = :d ORDER BY entered_at"
    assert rows(fresh_engine, history, d="in-order") == rows(fresh_engine, history, d="late")
    current = ("SELECT stage, stage_entered_at, last_activity_at, contacts_count FROM read_models.deal_current "
               "WHERE deal_id = :d")
    assert rows(fresh_engine, current, d="in-order") == rows(fresh_engine, current, d="late")


def test_amounts_are_exact_decimals(fresh_engine):
    h = History(fresh_engine)
    h.create("m1", 0, amount="0.10")
    h.create("m2", 0, amount="0.20")
    h.post("m1", "deal.quote_issued", 1, quote_id="q", amount="1234567.8912", currency="USD")
    project_all(fresh_engine)
    assert rows(fresh_engine, "SELECT current_amount FROM read_models.deal_current ORDER BY deal_id") == [
        (Decimal("1234567.8912"),), (Decimal("0.20"),)]
    body = api(fresh_engine).get("/v1/reports/funnel", params={"mode": "snapshot"}).json()
    assert body["stages"][0]["open_amount"] == "1234568.09"


def test_reapplying_a_deal_changes_nothing(fresh_engine):
    h = History(fresh_engine)
    h.create("r1", 0)
    h.move("r1", 1, "lead", "negotiation")
    h.sign("r1", 3)
    project_all(fresh_engine)
    dump = "SELECT * FROM read_models.{} ORDER BY 1, 2, 3"
    before = {t: rows(fresh_engine, dump.format(t))
              for t in ("deal_stage_history", "funnel_daily", "rep_performance_month")}
    project_all(fresh_engine)
    assert {t: rows(fresh_engine, dump.format(t)) for t in before} == before
