"""GET /v1/deals/{id}/timeline: readable entries in business time with actor and recorded
time, voids naming what they voided, stage visits with dwell agreeing with the read models."""
from sqlalchemy import text

from tests.integration.projection_helpers import History, api, project_all


def test_a_deals_history_reads_as_entries_and_visits(fresh_engine):
    h = History(fresh_engine)
    client = api(fresh_engine)
    h.create("tl1", 0, owner="r1")
    h.move("tl1", 2, "lead", "contacted")
    h.post("tl1", "deal.contact_logged", 1, channel="call", summary="intro")  # back-dated
    quote = h.post("tl1", "deal.quote_issued", 3, quote_id="q1", amount="700", currency="USD")
    h.post("tl1", "event.voided", 4, event_id=quote.event_id, reason="typo")
    h.sign("tl1", 6, amount="900")
    h.post("tl1", "deal.feedback_recorded", 7, score=5, comment="great")
    body = client.get("/v1/deals/tl1/timeline")
    assert body.status_code == 200
    body = body.json()
    assert (body["stage"], body["status"], body["version"]) == ("won", "won", 7)
    entries = body["entries"]
    assert [e["type"] for e in entries] == ["deal.created", "deal.contact_logged", "deal.stage_moved",
                                            "deal.quote_issued", "event.voided", "deal.signed",
                                            "deal.feedback_recorded"]  # business time, not recorded order
    assert all(e["actor"] == "test" and e["recorded_at"] for e in entries)
    assert entries[1]["summary"] == "Contact by call: intro"
    assert entries[2]["summary"] == "Moved from lead to contacted"
    voided, void = entries[3], entries[4]
    assert voided["voided"] and voided["voided_by"] == void["event_id"]
    assert void["voids"]["event_id"] == quote.event_id and void["voids"]["summary"] == "Quote q1: 700 USD"
    assert void["summary"].startswith("Voided deal.quote_issued of ") and void["summary"].endswith(": typo")
    assert entries[5]["summary"] == "Signed for 900 USD" and entries[6]["summary"] == "Feedback 5/5: great"
    project_all(fresh_engine)
    with fresh_engine.connect() as conn:
        stored = conn.execute(text("SELECT stage, visit, round((dwell_seconds / 86400)::numeric, 2)::float8, exit_to "
                                   "FROM read_models.deal_stage_history WHERE deal_id = 'tl1' "
                                   "ORDER BY entered_at")).all()
    assert [(v["stage"], v["visit"], v["dwell_days"], v["exit_to"]) for v in body["stage_visits"]] == \
        [tuple(r) for r in stored] == [("lead", 1, 2.0, "contacted"), ("contacted", 1, 4.0, "won")]


def test_unknown_deal_is_404(fresh_engine):
    response = api(fresh_engine).get("/v1/deals/nope/timeline")
    assert response.status_code == 404 and response.json()["error"]["code"] == "deal_not_found"
