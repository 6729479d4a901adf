"""GET /v1/export: each format against the stored log, the filters, late commits."""
import csv
import io
import json
import threading

import pytest

from events.canonical import canonical_json
from tests import factories as f
from tests.integration.export_helpers import client_for, small_log
from tests.integration.helpers import a_reader_waits_for_older_transactions
from tests.integration.relay_helpers import append
from tests.integration.test_log_order import append_in_open_transaction
from tests.waiting import PATIENCE, until


@pytest.fixture()
def logged(fresh_engine):
    small_log(fresh_engine)
    with client_for(fresh_engine) as c:
        yield c


def _stored(client) -> list[dict]:
    return client.get("/v1/events", params={"limit": 10_000}).json()["events"]


def _lines(client, **params) -> list[dict]:
    response = client.get("/v1/export", params=params)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def test_ndjson_is_the_stored_log_line_by_line(logged):
    response = logged.get("/v1/export", params={"format": "ndjson"})
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="dealtrail-export.ndjson"' in response.headers["content-disposition"]
    stored = _stored(logged)
    assert [json.loads(line) for line in response.text.splitlines()] == stored
    assert response.text == "".join(canonical_json(e) + "\n" for e in stored)
    assert [e["position"] for e in stored] == sorted(e["position"] for e in stored)


def test_cloudevents_carry_every_envelope_field(logged):
    stored = _stored(logged)
    events = _lines(logged, format="cloudevents")
    assert len(events) == len(stored)
    for ce, env in zip(events, stored):
        assert ce["specversion"] == "1.0" and ce["datacontenttype"] == "application/json"
        assert (ce["id"], ce["source"], ce["type"], ce["subject"], ce["time"], ce["data"]) == (
            env["event_id"], env["source"], env["type"], env["deal_id"], env["occurred_at"], env["data"])
        assert (ce["dealtrailposition"], ce["dealtrailstreamversion"], ce["dealtrailrecordedat"],
                ce["dealtrailactor"], ce["dealtrailprevhash"], ce["dealtrailhash"]) == (
            env["position"], env["stream_version"], env["recorded_at"], env["actor"],
            env["prev_hash"], env["hash"])
        assert all(name.isalnum() and name.islower() for name in ce)
        assert None not in ce.values()


def test_csv_has_a_header_and_one_row_per_event(logged):
    response = logged.get("/v1/export", params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="dealtrail-export.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    stored = _stored(logged)
    assert len(rows) == len(stored)
    for row, env in zip(rows, stored):
        assert row["data"] == canonical_json(env["data"])
        assert row["hash"] == env["hash"] and row["position"] == str(env["position"])
        assert row["correlation_id"] == (env["correlation_id"] or "")


def test_filters_after_until_and_deal(logged):
    stored = _stored(logged)
    positions = [e["position"] for e in stored]
    assert [e["position"] for e in _lines(logged, after=positions[1])] == positions[2:]
    assert [e["position"] for e in _lines(logged, after=positions[1], until=positions[3])] == positions[2:4]
    assert [e["deal_id"] for e in _lines(logged, deal_id="a")] == ["a", "a", "a"]
    cutoff = stored[2]["recorded_at"]
    assert [e["position"] for e in _lines(logged, until=cutoff)] == \
        [e["position"] for e in stored if e["recorded_at"] <= cutoff]


@pytest.mark.parametrize("params", [{"format": "xml"}, {"until": "yesterday"}, {"after": -1},
                                    {"until": "2026-11-01T00:00:00"}])
def test_bad_parameters_are_422(logged, params):
    response = logged.get("/v1/export", params=params)
    assert response.status_code == 422, response.text
    assert "error" in response.json()


def test_late_commit_below_the_end_is_waited_for(fresh_engine):
    append(fresh_engine, "a", f.created())
    results = {}
    with client_for(fresh_engine) as client, fresh_engine.connect() as slow:
        held = append_in_open_transaction(slow, "a")       # takes a position, not committed
        later = append(fresh_engine, "b", f.created())     # a higher position, committed
        reader = threading.Thread(target=lambda: results.update(r=client.get("/v1/export")))
        reader.start()
        until(lambda: a_reader_waits_for_older_transactions(fresh_engine), message="the export waits")
        slow.commit()
        reader.join(PATIENCE)
    positions = [json.loads(line)["position"] for line in results["r"].text.splitlines()]
    assert held.position in positions and positions[-1] == later.position
    assert positions == sorted(positions)
