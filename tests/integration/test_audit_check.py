"""`dealtrail audit check`: a log that only grew extends a saved digest; a superuser's consistent
rewrite after it (chains re-hashed, `dealtrail verify` still ok, audit tables rebuilt) does not,
and an export taken with the digest names the rewritten event. The digest duty of `watch`
publishes to Kafka."""
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from events.digest import generate_private_key, public_key_hex
from events.verify import verify_chains
from infra.settings import Settings
from services import audit_check, digests, watch
from services.api.app import create_app
from services.cli import app
from tests import factories as f
from tests.integration.kafka_helpers import read_topic
from tests.integration.ledger_helpers import all_envelopes, rewrite_consistently
from tests.integration.relay_helpers import append
from tests.keys import admin_headers


@pytest.fixture()
def saved(fresh_engine, tmp_path):
    """A log of three deals and a digest of it saved to a file, with an export of its events."""
    for deal in ("a", "b", "c"):
        append(fresh_engine, deal, f.created(expected_amount="373610.00"))
        append(fresh_engine, deal, f.signed(amount="373610.00"))
    key = generate_private_key()
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(digests.issue(fresh_engine, key)))
    export = tmp_path / "export.ndjson"
    export.write_text("".join(env.to_json() + "\n" for env in all_envelopes(fresh_engine)))
    return fresh_engine, key, path, export


def check(engine, key, path, *extra):
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(app, ["audit", "check", "--digest", str(path), "--public-key",
                                    public_key_hex(key), "--database-url", url, *extra])


def test_a_log_that_only_grew_extends_the_saved_digest(saved):
    engine, key, path, _ = saved
    size = json.loads(path.read_text())["tree_size"]
    append(engine, "d", f.created())
    append(engine, "d", f.contact())
    result = check(engine, key, path)
    assert result.exit_code == 0, result.output
    assert f"ok: the log of {size + 2} events extends the digest of {size}" in result.output


def test_a_consistent_rewrite_after_the_digest_is_detected(saved):
    engine, key, path, export = saved
    append(engine, "d", f.created())
    rewrite_consistently(engine, "b", 2, lambda data: {**data, "amount": "37361.00"})
    assert verify_chains(engine).ok  # the per-deal chains cannot tell
    result = check(engine, key, path)
    assert result.exit_code == 1
    assert "history before tree_size" in result.output and "rewritten" in result.output
    rewritten = next(env for env in all_envelopes(engine) if env.deal_id == "b" and env.stream_version == 2)
    named = check(engine, key, path, "--export", str(export))
    assert named.exit_code == 1 and f"event_id {rewritten.event_id}" in named.output
    assert f"position {rewritten.position}" in named.output


def test_a_rewrite_that_leaves_the_tree_alone_is_detected(saved):
    engine, key, path, _ = saved
    rewrite_consistently(engine, "c", 1, lambda data: {**data, "title": "other"}, rebuild_tree=False)
    assert verify_chains(engine).ok
    rewritten = next(env for env in all_envelopes(engine) if env.deal_id == "c" and env.stream_version == 1)
    result = check(engine, key, path)
    assert result.exit_code == 1 and "no longer match the tree" in result.output
    assert f"event_id {rewritten.event_id}" in result.output


def test_the_check_through_the_api(fresh_engine, tmp_path):
    settings = Settings(DATABASE_URL="unused", DEALTRAIL_AUDIT_KEY_FILE=tmp_path / "audit.key")
    append(fresh_engine, "a", f.created())
    with TestClient(create_app(settings, engine=fresh_engine), headers=admin_headers(fresh_engine)) as client:
        public = client.get("/v1/audit/public-key").json()["public_key"]
        old = client.get("/v1/audit/digest").json()
        append(fresh_engine, "b", f.created())
        outcome = audit_check.check_with_api(client, old, public)
        assert outcome.ok and outcome.message.endswith(f"extends the digest of {old['tree_size']}")
        rewrite_consistently(fresh_engine, "a", 1, lambda data: {**data, "title": "other"})
        outcome = audit_check.check_with_api(client, old, public)
        assert not outcome.ok and "rewritten" in outcome.message


def test_a_digest_signed_by_another_key_is_refused(saved):
    engine, _, path, _ = saved
    result = check(engine, generate_private_key(), path)
    assert result.exit_code == 1 and "not valid" in result.output


def test_the_digest_duty_records_and_publishes(fresh_engine, broker_bootstrap):
    append(fresh_engine, "p", f.created())
    key = generate_private_key()
    duty = digests.DigestDuty(key, broker_bootstrap, every_seconds=60)
    now = datetime.now(timezone.utc)
    done = watch.run_round(fresh_engine, now, threshold=Decimal("0.2"), currency="USD", digests=duty)
    size = done["digest"]
    assert size == len(all_envelopes(fresh_engine))
    recorded = digests.latest(fresh_engine)
    assert recorded["tree_size"] == size
    messages = read_topic(broker_bootstrap, digests.TOPIC, expect=1)
    assert any(m["key"] == str(size) and m["envelope"] == recorded for m in messages)
    assert duty(fresh_engine, now) is None  # not due again within the period
