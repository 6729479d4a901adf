"""GET /v1/deals as search (SPEC §3): q, sort with keyset pages across ties, filters, total."""
from datetime import datetime
from decimal import Decimal

import pytest

from infra.db import make_engine
from projections.tables.declared import deal_current
from tests.conftest import APP_ROLE
from tests.integration.projection_helpers import History, api, day, project_all

SORTS = [f"{sign}{key}" for key in ("deal_id", "created_at", "stage_entered_at", "current_amount", "last_activity_at")
         for sign in ("", "-")]


def _create(h: History, deal_id, at, title, customer, amount, owner="r1", segment="smb", close=None):
    data = {"title": title, "owner_id": owner, "team_id": "t1", "currency": "USD",
            "customer": {"id": f"c-{customer.split()[0].lower()}", "name": customer, "segment": segment}}
    if amount is not None:
        data["expected_amount"] = amount
    if close is not None:
        data["expected_close_date"] = close
    h.post(deal_id, "deal.created", at, **data)


@pytest.fixture(scope="module")
def deals(databases):
    """Nine deals with ties on every sort column and deals without an amount:

    created day 0: a1, a2, a3 | day 1: a4, a5 | day 2: a6, a7, a8, a9
    current_amount 1000: a1, a2, a6 | 500: a3, a9 | none: a4, a8 | 2500.50: a5 | 700 (quote): a7
    """
    engine = make_engine(databases.app_url(databases.fresh()), app_role=APP_ROLE, pool_size=5)
    h = History(engine)
    _create(h, "a1", 0, "Acme rollout", "Initech", "1000", close="2026-03-01")
    _create(h, "a2", 0, "Widget order", "ACME Corp", "1000", owner="r2", segment="enterprise", close="2026-03-31")
    _create(h, "a3", 0, "Globex renewal", "Globex", "500")
    _create(h, "a4", 1, "50% off deal", "Hooli", None, owner="r2")
    _create(h, "a5", 1, "Plain_name", "Umbrella", "2500.50", segment="enterprise", close="2026-04-01")
    _create(h, "a6", 2, "Zeta", "Zeta Co", "1000")
    h.move("a6", 3, "lead", "contacted")
    _create(h, "a7", 2, "Omega", "Omega", "900")
    h.post("a7", "deal.quote_issued", 2.5, quote_id="q1", amount="700", currency="USD")
    h.sign("a7", 4, "700")
    _create(h, "a8", 2, "Lost one", "Initech", None)
    h.lose("a8", 3)
    _create(h, "a9", 2, "Nine", "Nine Ltd", "500", owner="r2")
    project_all(engine)
    client = api(engine)
    yield client
    engine.dispose()


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [d["deal_id"] for d in response.json()["deals"]]


def _all_pages(client, params: dict, limit: int) -> tuple[list[str], set[int]]:
    seen, totals, cursor = [], set(), None
    for _ in range(50):
        body = client.get("/v1/deals", params={**params, "limit": limit,
                                              **({"cursor": cursor} if cursor else {})}).json()
        seen += [d["deal_id"] for d in body["deals"]]
        totals.add(body["total"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, totals
    raise AssertionError("paging did not end")


def _parse(key: str, value):
    if key == "current_amount":
        return Decimal(value)
    return value if key == "deal_id" else datetime.fromisoformat(value)


def expected_order(rows: list[dict], sort: str) -> list[str]:
    """The contract, in Python: by the key, ties by deal_id (same direction), NULLs last (only
    current_amount has them here)."""
    key, descending = sort.removeprefix("-"), sort.startswith("-")
    present = sorted((r for r in rows if r[key] is not None), key=lambda r: (_parse(key, r[key]), r["deal_id"]),
                     reverse=descending)
    missing = sorted((r for r in rows if r[key] is None), key=lambda r: r["deal_id"], reverse=descending)
    return [r["deal_id"] for r in present + missing]


def test_fixture_has_ties_and_missing_values(deals):
    rows = deals.get("/v1/deals").json()["deals"]
    for key in ("created_at", "stage_entered_at", "current_amount", "last_activity_at"):
        values = [r[key] for r in rows if r[key] is not None]
        assert len(set(values)) < len(values), key
    assert sum(r["current_amount"] is None for r in rows) == 2


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("limit", [1, 2, 4])
def test_every_sort_pages_through_every_row_once_in_order(deals, sort, limit):
    rows = deals.get("/v1/deals", params={"limit": 500}).json()["deals"]
    seen, totals = _all_pages(deals, {"sort": sort}, limit)
    assert seen == expected_order(rows, sort)
    assert sorted(seen) == [f"a{i}" for i in range(1, 10)] and totals == {9}


def test_descending_amount_puts_largest_first_and_missing_amounts_last(deals):
    assert _ids(deals.get("/v1/deals", params={"sort": "-current_amount"})) == [
        "a5", "a6", "a2", "a1", "a7", "a9", "a3", "a8", "a4"]
    assert _ids(deals.get("/v1/deals", params={"sort": "current_amount", "limit": 3})) == ["a3", "a9", "a7"]


def test_sorted_pages_combine_with_filters(deals):
    seen, totals = _all_pages(deals, {"sort": "-created_at", "owner_id": "r1", "status": "open"}, 2)
    assert seen == ["a6", "a5", "a3", "a1"] and totals == {4}


@pytest.mark.parametrize("q, expected", [
    ("acme", ["a1", "a2"]),           # a1 by title, a2 by customer name
    ("ACME", ["a1", "a2"]),
    ("initech", ["a1", "a8"]),
    ("50%", ["a4"]),                  # % is literal, not a wildcard
    ("_", ["a5"]),                    # so is _
    ("ren", ["a3"]),
    ("nothing like it", []),
])
def test_q_searches_title_and_customer_name_case_insensitively(deals, q, expected):
    response = deals.get("/v1/deals", params={"q": q})
    assert _ids(response) == expected and response.json()["total"] == len(expected)


@pytest.mark.parametrize("params, expected", [
    ({"segment": "enterprise"}, ["a2", "a5"]),
    ({"customer_id": "c-initech"}, ["a1", "a8"]),
    ({"min_amount": "1000"}, ["a1", "a2", "a5", "a6"]),
    ({"max_amount": "700.00"}, ["a3", "a7", "a9"]),
    ({"min_amount": "600", "max_amount": "1000"}, ["a1", "a2", "a6", "a7"]),
    ({"min_amount": "2500.5", "max_amount": "2500.50"}, ["a5"]),
    ({"created_from": day(1)}, ["a4", "a5", "a6", "a7", "a8", "a9"]),
    ({"created_to": day(1)}, ["a1", "a2", "a3"]),
    ({"created_from": day(1), "created_to": day(2)}, ["a4", "a5"]),
    ({"created_from": "2026-01-01T23:00:00-01:00", "created_to": day(2)}, ["a4", "a5"]),
    ({"stage": "contacted"}, ["a6"]),
    ({"stage": "won"}, ["a7"]),
    ({"status": "lost"}, ["a8"]),
    ({"q": "o", "segment": "smb", "max_amount": "999"}, ["a3", "a7"]),
])
def test_filters(deals, params, expected):
    response = deals.get("/v1/deals", params=params)
    assert _ids(response) == expected and response.json()["total"] == len(expected)


def test_total_counts_every_match_not_the_page(deals):
    body = deals.get("/v1/deals", params={"limit": 2, "status": "open"}).json()
    assert len(body["deals"]) == 2 and body["total"] == 7 and body["next_cursor"]
    assert body["sort"] == "deal_id" and body["as_of_position"] > 0


def test_rows_expose_every_deal_current_column(deals):
    [row] = deals.get("/v1/deals", params={"q": "Plain_name"}).json()["deals"]
    assert set(deal_current.c.keys()) | {"stalled"} <= set(row)
    assert (row["customer_name"], row["segment"], row["expected_amount"], row["current_amount"]) == (
        "Umbrella", "enterprise", "2500.50", "2500.50")


@pytest.mark.parametrize("params, expected", [
    ({"close_from": "2026-03-01"}, ["a1", "a2", "a5"]),
    ({"close_to": "2026-03-31"}, ["a1", "a2"]),
    ({"close_from": "2026-03-02", "close_to": "2026-04-01"}, ["a2", "a5"]),
])
def test_close_date_filters(deals, params, expected):
    assert _ids(deals.get("/v1/deals", params=params)) == expected
