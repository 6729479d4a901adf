"""Each metric of SPEC §4 pinned by a hand-computed example, through the report API."""
import pytest
from sqlalchemy import text

from tests.integration.projection_helpers import History, api, day, project_all


@pytest.fixture()
def six_deals(fresh_engine):
    """January cohort of five deals plus one in February (days after Jan 1 2026):

    d1 r1: lead 0 -> contacted 5 -> needs_analysis 9 -> proposal 12 -> negotiation 20 -> won 30 (1200)
    d2 r1: lead 1 -> proposal 4 (skip) -> lost 10
    d3 r2: lead 2 -> contacted 3 -> lost 6
    d4 r2: lead 3 (open)
    d6 r1: lead 4 -> contacted 6 -> lost 8 -> reopened to needs_analysis 11 -> won 15 (800)
    d5 r1: lead 40 (February)
    """
    h = History(fresh_engine)
    h.create("d1", 0)
    for at, (frm, to) in zip((5, 9, 12, 20), [("lead", "contacted"), ("contacted", "needs_analysis"),
                                              ("needs_analysis", "proposal"), ("proposal", "negotiation")]):
        h.move("d1", at, frm, to)
    h.sign("d1", 30, "1200")
    h.create("d2", 1)
    h.move("d2", 4, "lead", "proposal")
    h.lose("d2", 10)
    h.create("d3", 2, owner="r2", team="t2")
    h.move("d3", 3, "lead", "contacted")
    h.lose("d3", 6)
    h.create("d4", 3, owner="r2", team="t2", amount="500")
    h.create("d6", 4)
    h.move("d6", 6, "lead", "contacted")
    h.lose("d6", 8)
    h.post("d6", "deal.reopened", 11, to_stage="needs_analysis")
    h.sign("d6", 15, "800")
    h.create("d5", 40)
    project_all(fresh_engine)
    return api(fresh_engine)


def stage_rows(body, *fields):
    return [tuple(s[f] for f in fields) for s in body["stages"]]


def test_cohort_funnel(six_deals):
    body = six_deals.get("/v1/reports/funnel", params={"from": day(0), "to": day(31)}).json()
    assert (body["created"], body["won"], body["lost"], body["win_rate"]) == (5, 2, 2, 0.4)
    assert stage_rows(body, "stage", "reached", "entered", "skipped", "conversion") == [
        ("lead", 5, 5, 0, 0.8), ("contacted", 4, 3, 1, 0.75), ("needs_analysis", 3, 2, 1, 1.0),
        ("proposal", 3, 2, 1, 0.6667), ("negotiation", 2, 1, 1, 1.0)]
    assert body["as_of_position"] > 0 and body["mode"] == "cohort"
    # leakage: conversion below the stage's target conversion (lead 0.6, ..., proposal 0.5)
    assert [(s["stage"], s["target_conversion"], s["leakage"]) for s in body["stages"]][3:] == [
        ("proposal", 0.5, False), ("negotiation", 0.5, False)]
    assert body["leakage_stages"] == []


def test_cohort_funnel_filters_and_empty_stages(six_deals):
    body = six_deals.get("/v1/reports/funnel", params={"owner_id": "r2"}).json()
    assert (body["created"], body["won"], body["lost"]) == (2, 0, 1)
    assert body["leakage_stages"] == ["lead", "contacted"]  # 1 of 2, then 0 of 1 moved on; targets 0.6
    assert stage_rows(body, "reached") == [(2,), (1,), (0,), (0,), (0,)]
    assert [s["conversion"] for s in body["stages"]][2:] == [None, None, None]
    everyone = six_deals.get("/v1/reports/funnel").json()
    assert everyone["created"] == 6
    assert six_deals.get("/v1/reports/funnel", params={"segment": "enterprise"}).json()["created"] == 0


def test_snapshot_funnel_at_business_time(six_deals):
    # Day 7 (end of the 7th day after Jan 1): d1 contacted, d2 proposal, d3 lost (day 6),
    # d4 lead, d6 contacted (until lost on day 8), d5 not created yet.
    body = six_deals.get("/v1/reports/funnel", params={"mode": "snapshot", "at": day(7)}).json()
    assert stage_rows(body, "stage", "open", "open_amount") == [
        ("lead", 1, "500.00"), ("contacted", 2, "2000.00"), ("needs_analysis", 0, "0.00"),
        ("proposal", 1, "1000.00"), ("negotiation", 0, "0.00")]


def test_snapshot_funnel_now(six_deals):
    body = six_deals.get("/v1/reports/funnel", params={"mode": "snapshot"}).json()
    assert stage_rows(body, "stage", "open") == [("lead", 2), ("contacted", 0), ("needs_analysis", 0),
                                                 ("proposal", 0), ("negotiation", 0)]


def test_cycle_time_won(six_deals):
    body = six_deals.get("/v1/reports/cycle-time", params={"outcome": "won"}).json()
    # d1: 30 days, d6: 11 days (the reopened deal's cycle ends at its final close)
    assert body["overall"] == {"count": 2, "mean_days": 20.5, "p50_days": 20.5, "p75_days": 25.25,
                               "p90_days": 28.1}
    stages = {s["stage"]: s for s in body["stages"]}
    # lead dwell: d1 5 days, d6 2 days; contacted: d1 4, d6 2 (until lost); negotiation: d1 10
    assert (stages["lead"]["count"], stages["lead"]["mean_days"]) == (2, 3.5)
    assert (stages["contacted"]["count"], stages["contacted"]["p50_days"]) == (2, 3.0)
    assert (stages["negotiation"]["count"], stages["negotiation"]["mean_days"]) == (1, 10.0)
    assert stages["needs_analysis"]["count"] == 2  # d1: 3 days, d6: 4 days after reopen
    assert stages["needs_analysis"]["mean_days"] == 3.5


def test_cycle_time_lost_counts_final_losses_only(six_deals):
    body = six_deals.get("/v1/reports/cycle-time", params={"outcome": "lost"}).json()
    assert body["overall"]["count"] == 2  # d2 and d3; d6's loss was undone by the reopen
    assert body["overall"]["mean_days"] == 6.5  # d2: 9 days, d3: 4 days
    empty = six_deals.get("/v1/reports/cycle-time", params={"outcome": "lost", "from": day(100)}).json()
    assert empty["overall"]["count"] == 0 and all(s["count"] == 0 for s in empty["stages"])


def test_performance_by_rep_and_team(six_deals):
    body = six_deals.get("/v1/reports/performance", params={"period": "2026-01", "scope": "rep"}).json()
    rows = {r["owner_id"]: r for r in body["rows"]}
    # r1 in January: won d1 (day 30, 1200) and d6 (day 15, 800); lost d2; d6's loss undone.
    r1 = rows["r1"]
    assert (r1["deals_won"], r1["deals_lost"], r1["revenue_won"], r1["win_rate"]) == (2, 1, "2000.00", 0.6667)
    assert (r1["avg_deal_size"], r1["avg_cycle_days"], r1["new_deals"]) == ("1000.00", 20.5, 3)
    r2 = rows["r2"]
    assert (r2["deals_won"], r2["deals_lost"], r2["new_deals"], r2["win_rate"]) == (0, 1, 2, 0.0)
    feb = six_deals.get("/v1/reports/performance", params={"period": "2026-02"}).json()
    assert [(r["owner_id"], r["new_deals"], r["deals_won"]) for r in feb["rows"]] == [("r1", 1, 0)]
    quarter = six_deals.get("/v1/reports/performance", params={"period": "2026-Q1", "scope": "team"}).json()
    teams = {r["team_id"]: r for r in quarter["rows"]}
    assert (teams["t1"]["new_deals"], teams["t1"]["deals_won"], teams["t2"]["deals_lost"]) == (4, 2, 1)


def test_read_model_tables_agree_with_reports(six_deals, fresh_engine):
    with fresh_engine.connect() as conn:
        rep = conn.execute(text("SELECT deals_won, revenue_won FROM read_models.rep_performance_month "
                                "WHERE owner_id = 'r1' AND month = '2026-01-01'")).one()
        lead = conn.execute(text("SELECT sum(entered) FROM read_models.funnel_daily WHERE stage = 'lead'")).scalar()
    assert (rep[0], str(rep[1])) == (2, "2000")
    assert lead == 6


@pytest.mark.parametrize("params", [
    {"mode": "sideways"}, {"pipeline": "nope"}, {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
    {"from": "not a date"}, {"at": "2026-01-01T00:00:00"}])
def test_bad_funnel_queries_are_422(six_deals, params):
    r = six_deals.get("/v1/reports/funnel", params=params)
    assert r.status_code == 422 and r.json()["error"]["code"] in ("validation_error", "invalid_query")


def test_bad_performance_period_is_422(six_deals):
    for period in ("2026-13", "26-01", "2026-Q5"):
        assert six_deals.get("/v1/reports/performance", params={"period": period}).status_code == 422


def test_deal_list_filters_and_pages(six_deals):
    everything = six_deals.get("/v1/deals", params={"limit": 4}).json()
    assert [d["deal_id"] for d in everything["deals"]] == ["d1", "d2", "d3", "d4"]
    rest = six_deals.get("/v1/deals", params={"limit": 4, "cursor": everything["next_cursor"]}).json()
    assert [d["deal_id"] for d in rest["deals"]] == ["d5", "d6"] and rest["next_cursor"] is None
    open_r2 = six_deals.get("/v1/deals", params={"owner_id": "r2", "status": "open"}).json()
    assert [(d["deal_id"], d["stage"], d["current_amount"]) for d in open_r2["deals"]] == [("d4", "lead", "500.00")]
    stalled = six_deals.get("/v1/deals", params={"stalled": "true"}).json()["deals"]
    # open deals with no activity for more than 14 days in lead: d4 (Jan) and d5 (Feb)
    assert [d["deal_id"] for d in stalled] == ["d4", "d5"] and all(d["stalled"] for d in stalled)
    assert six_deals.get("/v1/deals", params={"limit": 501}).status_code == 422


def test_cohort_bounds_inside_a_day_are_exact(six_deals):
    # d1 was created at 00:00 on Jan 1, d2 on Jan 2: from 12:00 on Jan 1 leaves d1 out
    noon = "2026-01-01T12:00:00Z"
    body = six_deals.get("/v1/reports/funnel", params={"from": noon, "to": day(31)}).json()
    assert body["created"] == 4 and body["won"] == 1
    whole_days = six_deals.get("/v1/reports/funnel", params={"from": day(1), "to": day(31)}).json()
    assert whole_days["created"] == 4 and whole_days["stages"] == body["stages"]
