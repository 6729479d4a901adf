"""The management loop end to end: targets -> deals -> deviation fires once -> review ->
actions -> close -> next period's target; idempotent across restarts and rebuilds."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from infra.db import make_engine
from projections.read_models import SALES
from projections.reports import forecast
from projections.runtime import rebuild
from services import watch
from tests.integration.projection_helpers import History, api, project_all
from tests.owners import owner_url

JAN20 = datetime(2026, 1, 20, tzinfo=timezone.utc)


def count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


@pytest.fixture()
def january(fresh_engine):
    """r1 wins two deals in January against a target of 10; r2 wins one against a target of 1."""
    h = History(fresh_engine)
    for deal, owner, team in (("a1", "r1", "t1"), ("a2", "r1", "t1"), ("b1", "r2", "t2")):
        h.create(deal, 2, owner=owner, team=team)
        h.move(deal, 4, "lead", "negotiation")
        h.sign(deal, 10, "1000")
    h.post("a1", "deal.feedback_recorded", 12, score=2, comment="slow onboarding", **{"from": "customer"})
    client = api(fresh_engine)
    for scope, scope_id, metric, value in (("rep", "r1", "deals_won", 10), ("rep", "r2", "deals_won", 1),
                                           ("team", "t1", "revenue", "1000"), ("company", "company", "new_deals", 3)):
        r = client.post("/v1/targets", json={"scope": scope, "scope_id": scope_id, "period": "2026-01",
                                             "metric": metric, "value": value})
        assert r.status_code == 201, r.text
    project_all(fresh_engine)
    return client


def test_targets_are_versioned_and_report_attainment(january, fresh_engine):
    r = january.post("/v1/targets", json={"scope": "rep", "scope_id": "r1", "period": "2026-01",
                                          "metric": "deals_won", "value": 8})
    assert r.status_code == 201 and r.json()["stream_version"] == 2
    project_all(fresh_engine)
    rows = {t["target_id"]: t for t in january.get("/v1/targets", params={"period": "2026-01"}).json()["targets"]}
    r1 = rows["rep.r1.2026-01.deals_won"]
    # money and metric figures are decimal strings (exact), as everywhere in the API
    assert (Decimal(r1["target"]), Decimal(r1["actual"]), r1["version"], r1["status"]) == (8, 2, 2, "behind")
    assert rows["rep.r2.2026-01.deals_won"]["status"] == "on_track"
    assert rows["team.t1.2026-01.revenue"]["attainment"] == 2.0
    assert Decimal(rows["company.company.2026-01.new_deals"]["actual"]) == 3
    assert count(fresh_engine, "SELECT count(*) FROM read_models.target_history "
                               "WHERE target_id = 'rep.r1.2026-01.deals_won'") == 2
    assert Decimal(r1["pace"]) == 8  # January is over: the whole target is due


def test_deviation_opens_one_review_across_restarts_and_rebuilds(january, fresh_engine):
    assert watch.check_deviations(fresh_engine, JAN20, Decimal("0.2"), "USD") == ["rep.r1.2026-01.deals_won"]
    # a second watcher, before the projection saw the review: the append finds it
    assert watch.check_deviations(fresh_engine, JAN20, Decimal("0.2"), "USD") == []
    project_all(fresh_engine)
    assert watch.check_deviations(fresh_engine, JAN20, Decimal("0.2"), "USD") == []
    events_before = count(fresh_engine, "SELECT count(*) FROM events.event")
    rebuild.rebuild(SALES, make_engine(owner_url(fresh_engine)))
    assert count(fresh_engine, "SELECT count(*) FROM events.event") == events_before  # rebuild emits nothing
    assert watch.check_deviations(fresh_engine, JAN20, Decimal("0.2"), "USD") == []
    assert count(fresh_engine, "SELECT count(*) FROM events.event WHERE type = 'review.opened'") == 1


def test_no_deviation_before_a_quarter_of_the_period(january, fresh_engine):
    early = datetime(2026, 1, 5, tzinfo=timezone.utc)
    assert watch.check_deviations(fresh_engine, early, Decimal("0.2"), "USD") == []


def test_review_meeting_from_the_api(january, fresh_engine):
    watch.check_deviations(fresh_engine, JAN20, Decimal("0.2"), "USD")
    project_all(fresh_engine)
    [review] = january.get("/v1/reviews", params={"status": "open"}).json()["reviews"]
    assert (review["trigger"], review["metric"], review["scope_id"], review["actual"]) == \
        ("deviation", "deals_won", "r1", 2.0)
    assert review["expected"] == pytest.approx(10 * 19 / 31, abs=0.001)
    assert [(f["deal_id"], f["score"]) for f in review["feedback"]] == [("a1", 2)]
    rid = review["review_id"]
    assert january.post(f"/v1/reviews/{rid}/actions",
                        json={"action_id": "call", "title": "Call lost leads", "owner_id": "r1",
                              "due_date": "2026-01-10"}).status_code == 201
    assert january.post(f"/v1/reviews/{rid}/actions", json={"title": "Pipeline review", "owner_id": "m1",
                                                             "due_date": "2099-01-01"}).status_code == 201
    assert january.post(f"/v1/reviews/{rid}/actions/call/complete", json={"outcome": "3 revived"}).status_code == 201
    project_all(fresh_engine)
    review = january.get(f"/v1/reviews/{rid}").json()
    assert (review["actions_total"], review["actions_open"]) == (2, 1)
    call = next(a for a in review["actions"] if a["action_id"] == "call")
    assert call["outcome"] == "3 revived" and not call["overdue"]
    assert january.post(f"/v1/reviews/{rid}/close", json={"summary": "plan agreed"}).status_code == 201
    project_all(fresh_engine)
    assert january.get("/v1/reviews", params={"status": "open"}).json()["reviews"] == []
    assert january.get(f"/v1/reviews/{rid}").json()["status"] == "closed"
    nxt = january.post("/v1/targets", json={"scope": "rep", "scope_id": "r1", "period": "2026-02",
                                            "metric": "deals_won", "value": 6})
    assert nxt.status_code == 201


def test_overdue_actions_are_flagged(january, fresh_engine):
    rid = "manual-1"
    assert january.post("/v1/reviews", json={"review_id": rid, "scope": "team", "scope_id": "t1", "period": "2026-01",
                                             "metric": "revenue", "expected": "1000",
                                             "actual": "2000"}).status_code == 201
    january.post(f"/v1/reviews/{rid}/actions", json={"action_id": "x", "title": "t", "owner_id": "r1",
                                                     "due_date": "2026-01-02"})
    project_all(fresh_engine)
    review = january.get(f"/v1/reviews/{rid}").json()
    assert review["overdue_actions"] == 1 and review["trigger"] == "manual"
    assert count(fresh_engine, "SELECT count(*) FROM read_models.overdue_actions") == 1


@pytest.mark.parametrize("path,body,status,code", [
    ("/v1/reviews/nope/actions", {"title": "t", "owner_id": "o"}, 404, "review_not_found"),
    ("/v1/reviews/nope/close", {}, 404, "review_not_found"),
])
def test_review_errors_on_unknown_review(january, path, body, status, code):
    r = january.post(path, json=body)
    assert r.status_code == status and r.json()["error"]["code"] == code


def test_review_action_rules(january):
    rid = "rules-1"
    body = {"review_id": rid, "scope": "rep", "scope_id": "r1", "period": "2026-01", "metric": "contacts",
            "expected": "10", "actual": "1"}
    assert january.post("/v1/reviews", json=body).status_code == 201
    assert january.post("/v1/reviews", json=body).json()["error"]["code"] == "review_exists"
    assert january.post(f"/v1/reviews/{rid}/actions/zzz/complete").json()["error"]["code"] == "action_not_found"
    january.post(f"/v1/reviews/{rid}/actions", json={"action_id": "a", "title": "t", "owner_id": "o"})
    assert january.post(f"/v1/reviews/{rid}/actions",
                        json={"action_id": "a", "title": "t", "owner_id": "o"}).status_code == 409
    assert january.post(f"/v1/reviews/{rid}/actions/a/complete").status_code == 201
    assert january.post(f"/v1/reviews/{rid}/actions/a/complete").json()["error"]["code"] == "action_conflict"
    assert january.post(f"/v1/reviews/{rid}/close").status_code == 201
    closed = january.post(f"/v1/reviews/{rid}/actions", json={"title": "late", "owner_id": "o"})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "review_closed"


def test_forecast_weighted_historical_and_accuracy(january, fresh_engine):
    h = History(fresh_engine)
    h.create("open1", 20, amount="1000")
    h.move("open1", 21, "lead", "proposal")
    h.create("open2", 20, amount="500")
    for deal in ("open1", "open2"):  # expected to close in January (the forecast places deals by it)
        h.post(deal, "deal.updated", 22, expected_close_date="2026-01-30")
    project_all(fresh_engine)
    body = january.get("/v1/reports/forecast", params={"period": "2026-01"}).json()
    stages = {s["stage"]: s for s in body["stages"]}
    assert stages["proposal"]["weighted"] == "400.00" and stages["lead"]["weighted"] == "25.00"
    assert body["weighted_pipeline"] == "425.00" and body["won_to_date"] == "3000.00"
    assert stages["lead"]["sample_size"] < forecast.MIN_SAMPLE and stages["lead"]["historical_probability"] is None
    assert body["historical_forecast"] == "425.00"  # too few closed deals: configured probabilities
    with fresh_engine.begin() as conn:
        assert forecast.snapshot(conn, "2026-01", "company", "company", datetime(2026, 1, 1, tzinfo=timezone.utc))
        assert not forecast.snapshot(conn, "2026-01", "company", "company", datetime(2026, 1, 2, tzinfo=timezone.utc))
    [past] = january.get("/v1/reports/forecast", params={"period": "2026-02"}).json()["accuracy"]
    assert past["period"] == "2026-01" and past["actual"] == "3000.00" and past["as_of_position"] > 0
    every_rep = january.get("/v1/reports/forecast", params={"scope": "rep", "period": "2026-02"}).json()
    company = january.get("/v1/reports/forecast", params={"period": "2026-02"}).json()
    assert every_rep["scope_id"] is None and every_rep["accuracy"] == []  # issue 7: scope_id is optional
    assert [every_rep[k] for k in ("won_to_date", "weighted_pipeline", "stages")] == \
        [company[k] for k in ("won_to_date", "weighted_pipeline", "stages")]


def test_stalled_deals_open_one_review_per_rep_and_month(fresh_engine):
    h = History(fresh_engine)
    for i in range(3):
        h.create(f"s{i}", 0, owner="slow")      # January, never touched again: stalled
    h.create("fresh", 0, owner="busy")
    project_all(fresh_engine)
    now = datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert watch.check_stalled(fresh_engine, now, 3, "USD") == ["slow"]
    assert watch.check_stalled(fresh_engine, now, 3, "USD") == []
    assert watch.check_stalled(fresh_engine, now, 0, "USD") == []  # 0 switches it off
    project_all(fresh_engine)
    [review] = api(fresh_engine).get("/v1/reviews").json()["reviews"]
    assert (review["trigger"], review["scope_id"], review["metric"], review["actual"]) == \
        ("stalled", "slow", "stalled_deals", 3.0)


def test_pipeline_parameters_are_defined_by_events(fresh_engine):
    from services.bootstrap import default_definition
    client = api(fresh_engine)
    project_all(fresh_engine)
    [default] = client.get("/v1/pipelines").json()["pipelines"]
    assert [s["stage"] for s in default["stages"]][:2] == ["lead", "contacted"]
    definition = default_definition()
    definition["stages"][0] = {**definition["stages"][0], "probability": "0.09", "stall_after_days": 3}
    r = client.put("/v1/pipelines/default", json=definition)
    assert r.status_code == 201 and r.json()["stream_version"] == 2
    h = History(fresh_engine)
    h.create("p1", 300, amount="1000")  # Oct 28 2026: stalled after 3 days, not after 14
    project_all(fresh_engine)
    lead = client.get("/v1/pipelines").json()["pipelines"][0]["stages"][0]
    assert (lead["probability"], lead["stall_after_days"]) == (0.09, 3)
    assert client.get("/v1/reports/forecast").json()["stages"][0]["weighted"] == "90.00"
    assert [d["deal_id"] for d in client.get("/v1/deals", params={"stalled": "true"}).json()["deals"]] == ["p1"]
    reordered = {"stages": list(reversed(definition["stages"]))}
    bad = client.put("/v1/pipelines/default", json=reordered)
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "pipeline_conflict"


def test_a_custom_pipeline_end_to_end(fresh_engine):
    client = api(fresh_engine)
    stages = [{"key": "qualify", "probability": "0.2", "stall_after_days": 7, "target_conversion": "0.5"},
              {"key": "quote", "probability": "0.5"}, {"key": "commit", "probability": "0.9"}]
    assert client.put("/v1/pipelines/renewals", json={"stages": stages}).status_code == 201
    created = {"type": "deal.created", "data": {"title": "renewal", "customer": {"id": "c", "name": "C"},
                                                "owner_id": "r1", "pipeline": "renewals", "stage": "qualify"}}
    assert client.post("/v1/deals/ren-1/events", json=created).status_code == 201
    bad = client.post("/v1/deals/ren-2/events", json={**created, "data": {**created["data"], "stage": "lead"}})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_stage"
    skip = {"type": "deal.stage_moved", "data": {"from_stage": "qualify", "to_stage": "commit"}}
    assert client.post("/v1/deals/ren-1/events", json=skip).status_code == 201
    assert client.get("/v1/deals/ren-1").json()["last_transition"]["kind"] == "skip"
    unknown = client.post("/v1/deals/ren-3/events", json={**created, "data": {**created["data"], "pipeline": "nope"}})
    assert unknown.status_code == 422
    project_all(fresh_engine)
    funnel = client.get("/v1/reports/funnel", params={"pipeline": "renewals"}).json()
    assert [(s["stage"], s["reached"], s["entered"]) for s in funnel["stages"]] == [
        ("qualify", 1, 1), ("quote", 1, 0), ("commit", 1, 1)]
    assert client.get("/v1/reports/funnel").json()["created"] == 0  # the default pipeline's funnel
    change = client.put("/v1/pipelines/renewals", json={"stages": stages[:2]})
    assert change.status_code == 409 and change.json()["error"]["code"] == "pipeline_conflict"


def test_watch_snapshots_month_quarter_and_year_once(january, fresh_engine):
    now = datetime(2026, 2, 1, 0, 5, tzinfo=timezone.utc)
    assert watch.current_periods(now) == ["2026-02", "2026-Q1", "2026"]
    first = watch.take_snapshots(fresh_engine, now)
    assert first == 3 * (1 + 2 + 2)  # company, teams t1 t2, reps r1 r2
    assert watch.take_snapshots(fresh_engine, now) == 0
