"""The demo organisation is valid under every rule, deterministic, and looks like sales."""
from sqlalchemy import text

from services.demo import generate
from tests.integration.projection_helpers import DEMO_END as END
from tests.integration.projection_helpers import api, project_all


def test_same_seed_same_events_other_seed_other_events():
    assert list(generate(50, 3, END)) == list(generate(50, 3, END))
    assert list(generate(50, 3, END)) != list(generate(50, 4, END))


def test_demo_posts_cleanly_and_gives_a_sensible_funnel(fresh_engine):
    client = api(fresh_engine)
    items = list(generate(400, 11, END))
    for start in range(0, len(items), 5000):
        r = client.post("/v1/events/batch", json={"events": items[start:start + 5000]})
        assert r.status_code == 201, r.text
    again = client.post("/v1/events/batch", json={"events": items[:100]})
    assert again.status_code == 200  # event ids are seeded: re-posting is idempotent
    project_all(fresh_engine)
    funnel = client.get("/v1/reports/funnel").json()
    assert funnel["created"] == 400 and 0 < funnel["won"] < funnel["lost"]
    reached = [s["reached"] for s in funnel["stages"]]
    assert reached == sorted(reached, reverse=True) and reached[0] == 400
    assert all(0 < s["conversion"] < 1 for s in funnel["stages"])
    assert sum(s["skipped"] for s in funnel["stages"]) > 0
    with fresh_engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT entered_by, count(*) FROM read_models.deal_stage_history "
                                       "GROUP BY 1")).all())
    assert {"create", "move", "skip", "regression", "reopen"} <= set(kinds)
    cycle = client.get("/v1/reports/cycle-time").json()["overall"]
    assert cycle["count"] == funnel["won"] and cycle["p50_days"] <= cycle["p90_days"]
