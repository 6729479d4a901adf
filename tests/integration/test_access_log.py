"""One access log line per request with method, path, status, duration, actor and correlation
id; as JSON fields with DEALTRAIL_LOG_FORMAT=json."""
import json
import logging

from services.logs import JsonFormatter
from tests.integration.projection_helpers import api


def test_each_request_is_logged_with_its_actor_and_correlation_id(fresh_engine, caplog):
    client = api(fresh_engine)
    with caplog.at_level(logging.INFO, logger="dealtrail.access"):
        client.get("/v1/deals/nope", headers={"X-Correlation-ID": "cid-42"})
        client.get("/v1/deals", headers={"Authorization": "Bearer wrong"})
    found, refused = [r for r in caplog.records if r.name == "dealtrail.access"][-2:]
    assert (found.method, found.path, found.status, found.correlation_id) == ("GET", "/v1/deals/nope", 404, "cid-42")
    assert found.actor.startswith("test-admin-") and found.ms >= 0
    assert (refused.status, refused.actor) == (401, None)
    line = json.loads(JsonFormatter().format(found))
    assert line["logger"] == "dealtrail.access" and line["status"] == 404 and line["correlation_id"] == "cid-42"
    assert line["message"].startswith("GET /v1/deals/nope 404 ")
