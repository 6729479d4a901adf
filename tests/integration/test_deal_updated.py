"""deal.updated (SPEC §2 "Editing a deal"): descriptive fields change, the stage does not; the
write side and the read models show the same deal; amount changes are history rows."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from tests import factories as f
from tests.integration.helpers import log_size, post
from tests.integration.projection_helpers import api, project_all


def updated(**data) -> dict:
    return {"type": "deal.updated", "data": data}


def at(body: dict, when: str) -> dict:
    return {**body, "occurred_at": when}


def current(engine, deal_id: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM read_models.deal_current WHERE deal_id = :d"),
                                 {"d": deal_id}).mappings().one())


def test_every_descriptive_field_changes_on_both_sides(fresh_engine):
    client = api(fresh_engine)
    assert post(client, "u1", at(f.created(), "2026-11-01T09:00:00Z")).status_code == 201
    assert post(client, "u1", at(f.moved("lead", "contacted"), "2026-11-02T09:00:00Z")).status_code == 201
    body = updated(title="ACME, phase 2", expected_amount="2500.00", currency="USD",
                   expected_close_date="2026-12-15", customer={"name": "ACME Corp", "region": "emea"},
                   fields={"industry": "retail", "seats": 40, "strategic": True})
    assert post(client, "u1", at(body, "2026-11-03T09:00:00Z")).status_code == 201
    assert post(client, "u1", updated(fields={"seats": None, "score": 1.5})).status_code == 201
    state = client.get("/v1/deals/u1").json()
    assert (state["stage"], state["title"], state["expected_amount"], state["expected_close_date"]) == (
        "contacted", "ACME, phase 2", "2500.00", "2026-12-15")
    assert state["customer"] == {"id": "c1", "name": "ACME Corp", "segment": "smb", "region": "emea"}
    assert state["fields"] == {"industry": "retail", "strategic": True, "score": 1.5}
    project_all(fresh_engine)
    row = current(fresh_engine, "u1")
    assert (row["title"], str(row["expected_amount"]), row["expected_close_date"].isoformat(), row["fields"],
            row["customer_name"], row["region"], row["stage"], row["version"]) == (
        "ACME, phase 2", "2500.00", "2026-12-15", state["fields"], "ACME Corp", "emea", "contacted", 4)
    with fresh_engine.connect() as conn:
        amounts = conn.execute(text("SELECT amount FROM read_models.deal_amount_history WHERE deal_id = 'u1' "
                                    "ORDER BY seq")).scalars().all()
    assert [str(a) for a in amounts] == ["1000.00", "2500.00"]


def test_a_backdated_update_does_not_override_a_later_one(fresh_engine):
    client = api(fresh_engine)
    post(client, "u2", at(f.created(), "2026-11-01T09:00:00Z"))
    post(client, "u2", at(updated(title="later"), "2026-11-10T09:00:00Z"))
    post(client, "u2", at(updated(title="earlier", expected_close_date="2027-01-31"), "2026-11-05T09:00:00Z"))
    state = client.get("/v1/deals/u2").json()
    assert (state["title"], state["expected_close_date"]) == ("later", "2027-01-31")
    project_all(fresh_engine)
    row = current(fresh_engine, "u2")
    assert (row["title"], row["expected_close_date"].isoformat()) == ("later", "2027-01-31")


@pytest.mark.parametrize("data,status,code", [
    ({}, 422, "validation_error"),
    ({"expected_amount": "10"}, 422, "validation_error"),  # an amount needs its currency
    ({"expected_amount": "10", "currency": "EUR"}, 422, "unsupported_currency"),
    ({"fields": {f"k{i}": i for i in range(51)}}, 422, "validation_error"),
    ({"fields": {"k": {"nested": 1}}}, 422, "validation_error"),
    ({"stage": "proposal"}, 422, "validation_error"),  # an update never touches the stage
])
def test_bad_updates_are_refused_and_write_nothing(client, engine, deal_id, data, status, code):
    assert post(client, deal_id, f.created()).status_code == 201
    before = log_size(engine)
    response = post(client, deal_id, updated(**data))
    assert response.status_code == status and response.json()["error"]["code"] == code, response.text
    assert log_size(engine) == before


def test_a_deal_holds_at_most_50_custom_fields(client, deal_id):
    post(client, deal_id, f.created())
    assert post(client, deal_id, updated(fields={f"a{i}": i for i in range(30)})).status_code == 201
    response = post(client, deal_id, updated(fields={f"b{i}": i for i in range(30)}))
    assert response.status_code == 422 and "50" in response.json()["error"]["message"]


def test_a_closed_deal_cannot_be_updated(client, deal_id):
    post(client, deal_id, f.created())
    post(client, deal_id, f.lost())
    response = post(client, deal_id, updated(title="too late"))
    assert response.status_code == 409 and response.json()["error"]["code"] == "deal_closed"


def test_the_forecast_places_open_deals_by_expected_close_date(fresh_engine):
    client = api(fresh_engine)
    now = datetime.now(timezone.utc)
    this_month = f"{now.year}-{now.month:02d}"
    next_start = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
    next_month = f"{next_start.year}-{next_start.month:02d}"
    post(client, "soon", f.created(expected_amount="100.00"))
    post(client, "later", f.created(expected_amount="200.00"))
    post(client, "later", updated(expected_close_date=next_start.date().isoformat()))
    project_all(fresh_engine)

    def lead(period: str) -> dict:
        stages = client.get("/v1/reports/forecast", params={"period": period}).json()["stages"]
        return next(s for s in stages if s["stage"] == "lead")
    assert (lead(this_month)["open"], lead(this_month)["open_amount"]) == (1, "100.00")
    assert (lead(next_month)["open"], lead(next_month)["open_amount"]) == (1, "200.00")


def test_float_custom_fields_hash_as_the_stdlib_writes_them(fresh_engine):
    """Custom fields may hold floats; the stored hash is sha256(prev_hash + json.dumps(...)),
    with floats as Python writes them (1e-05, not orjson's 0.00001), and the chain verifies."""
    import hashlib

    from events import store
    from events.canonical import reference_json
    from events.verify import verify_chains

    client = api(fresh_engine)
    assert post(client, "fl1", f.created()).status_code == 201
    assert post(client, "fl1", updated(fields={"ratio": 1e-05, "tiny": 2.5e-07, "half": 0.5})).status_code == 201
    with fresh_engine.connect() as conn:
        env = store.read_stream(conn, "fl1")[-1]
    body = {k: v for k, v in env.to_dict().items() if k != "hash"}
    assert '"ratio":1e-05' in reference_json(body) and '"tiny":2.5e-07' in reference_json(body)
    assert env.hash == hashlib.sha256((env.prev_hash + reference_json(body)).encode()).hexdigest()
    assert verify_chains(fresh_engine).ok
