"""One fold per aggregate, end to end: pipeline stages come from one source (the pipeline fold
as the stream heads store it; read_models.pipeline_stage is the same fold mapped to rows), and a
stream head stored before the one fold is folded again from its events."""
import json
from decimal import Decimal

from sqlalchemy import text

from domain.pipeline_config import PipelineState
from domain.pipelines import known
from events import store
from infra.db import make_engine
from projections.loop.rows import pipeline_rows
from tests.integration.projection_helpers import api, project_all
from tests.owners import owner_url

STAGES = [{"key": "qualify", "probability": "0.2", "stall_after_days": 7, "target_conversion": "0.5"},
          {"key": "quote", "probability": "0.5"}, {"key": "commit", "probability": "0.9"}]


def test_write_and_read_side_agree_on_a_pipelines_stages_after_a_change(fresh_engine):
    client = api(fresh_engine)
    assert client.put("/v1/pipelines/renewals", json={"stages": STAGES}).status_code == 201
    changed = [{**STAGES[0], "probability": "0.3"}, STAGES[1], {**STAGES[2], "stall_after_days": 2}]
    assert client.put("/v1/pipelines/renewals", json={"stages": changed}).status_code == 201
    project_all(fresh_engine)
    with fresh_engine.connect() as conn:
        write_side = known(store.pipeline_stage_lists(conn))["renewals"].keys
        state = PipelineState.load(store.read_head(conn, "pipeline:renewals").state)
        rows = conn.execute(text("SELECT pipeline, stage, stage_index, probability, stall_after_days, "
                                 "target_conversion FROM read_models.pipeline_stage "
                                 "WHERE pipeline = 'renewals' ORDER BY stage_index")).all()
    assert list(write_side) == [r.stage for r in rows] == state.stages == ["qualify", "quote", "commit"]
    assert state.version == 2
    assert [tuple(r) for r in rows] == [(p, s, i, Decimal(prob), stall, None if tc is None else Decimal(tc))
                                        for p, s, i, prob, stall, tc in pipeline_rows(state)["pipeline_stage"]]
    assert [(r.probability, r.stall_after_days) for r in rows] == [(Decimal("0.3"), 7), (Decimal("0.5"), None),
                                                                   (Decimal("0.9"), 2)]


def test_reports_know_a_pipeline_as_soon_as_it_is_defined(fresh_engine):
    """The reports validate `pipeline` against the write side's stage lists, not a read model that
    has not applied the definition yet."""
    client = api(fresh_engine)
    assert client.put("/v1/pipelines/renewals", json={"stages": STAGES}).status_code == 201
    funnel = client.get("/v1/reports/funnel", params={"pipeline": "renewals"})
    assert funnel.status_code == 200, funnel.text
    assert [s["stage"] for s in funnel.json()["stages"]] == ["qualify", "quote", "commit"]
    unknown = client.get("/v1/reports/funnel", params={"pipeline": "nope"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_query"


def _store_head(engine, stream_id: str, state: dict) -> None:
    """Overwrite a stream head's state as an earlier release stored it (the owner may)."""
    owner = make_engine(owner_url(engine), pool_size=1)
    try:
        with owner.begin() as conn:
            conn.execute(text("UPDATE events.stream_head SET state = CAST(:s AS jsonb) WHERE deal_id = :d"),
                         {"s": json.dumps(state), "d": stream_id})
    finally:
        owner.dispose()


def test_heads_stored_before_the_one_fold_are_folded_again(fresh_engine):
    client = api(fresh_engine)
    target = {"scope": "rep", "scope_id": "r1", "period": "2026-01", "metric": "revenue"}
    assert client.post("/v1/targets", json={**target, "value": "100"}).status_code == 201
    _store_head(fresh_engine, "target:rep.r1.2026-01.revenue",
                {"target_id": "rep.r1.2026-01.revenue", "version": 1, "value": "100"})
    assert client.post("/v1/targets", json={**target, "value": "120"}).status_code == 201
    review = {"review_id": "old-1", "scope": "rep", "scope_id": "r1", "period": "2026-01", "metric": "revenue",
              "expected": "100", "actual": "10"}
    assert client.post("/v1/reviews", json=review).status_code == 201
    action = {"action_id": "a", "title": "t", "owner_id": "o"}
    assert client.post("/v1/reviews/old-1/actions", json=action).status_code == 201
    _store_head(fresh_engine, "review:old-1",
                {"review_id": "old-1", "version": 2, "status": "open", "actions": {"a": False}})
    assert client.post("/v1/reviews/old-1/actions/a/complete").status_code == 201
    again = client.post("/v1/reviews/old-1/actions/a/complete")
    assert again.status_code == 409 and again.json()["error"]["code"] == "action_conflict"
    with fresh_engine.connect() as conn:
        target_head = store.read_head(conn, "target:rep.r1.2026-01.revenue").state
        review_head = store.read_head(conn, "review:old-1").state
    assert target_head["fold_version"] == 1 and [v["value"] for v in target_head["history"]] == ["100", "120"]
    assert review_head["actions"]["a"]["title"] == "t" and review_head["actions"]["a"]["completed_at"]
