"""Issue 23 finding 5: a chain-only rewrite (as the owner, triggers off: a contact's summary
changed and its deal's chain re-hashed, the audit tables left alone) after a digest was recorded
passes the per-deal chains, and is named — event_id, position, deal — by `dealtrail verify`,
`GET /v1/audit/verify` and every mode of `audit check`; an untouched log is ok in all of them."""
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from events.digest import generate_private_key, public_key_hex
from events.verify import verify_chains
from infra.embedded import free_port
from infra.settings import Settings
from services import digests, export_leaves
from services.api.app import create_app
from services.audit_key import signing_key
from services.cli import app
from tests import factories as f
from tests.integration.ledger_helpers import all_envelopes, rewrite_consistently
from tests.integration.relay_helpers import append
from tests.keys import admin_headers
from tests.waiting import until


@dataclass
class Audited:
    engine: object
    client: TestClient
    url: str  # a live API on the same database, for `audit check --api-url`
    headers: dict
    public_key: str
    saved: Path  # the digest recorded, saved to a file
    export: Path  # an export taken with it

    def cli(self, *args):
        return CliRunner().invoke(app, [*args, "--public-key", self.public_key,
                                        "--database-url", self.engine.url.render_as_string(hide_password=False)])

    def verify(self):
        return self.cli("verify")

    def check(self, *extra):
        return self.cli("audit", "check", "--digest", str(self.saved), *extra)

    def check_api(self, *extra):
        key = self.headers["Authorization"].split()[1]
        return CliRunner().invoke(app, ["audit", "check", "--digest", str(self.saved), "--public-key",
                                        self.public_key, "--api-url", self.url, "--api-key", key, *extra])


def _serve(application):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until(lambda: server.started, timeout=60)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture()
def audited(fresh_engine, tmp_path):
    """Two deals with contacts, a digest recorded (signed with the API's key) and saved with an
    export, then one more event: events past the digest are fine."""
    for deal in ("a", "b"):
        append(fresh_engine, deal, f.created())
        append(fresh_engine, deal, f.contact(data={"channel": "call", "summary": f"talked to {deal}"}))
        append(fresh_engine, deal, f.moved("lead", "contacted"))
    settings = Settings(DATABASE_URL="unused", DEALTRAIL_AUDIT_KEY_FILE=tmp_path / "audit.key")
    key = signing_key(settings)
    signed = digests.issue(fresh_engine, key)
    digests.record(fresh_engine, signed)
    (tmp_path / "saved.json").write_text(json.dumps(signed))
    (tmp_path / "export.ndjson").write_text("".join(e.to_json() + "\n" for e in all_envelopes(fresh_engine)))
    append(fresh_engine, "a", f.contact())
    application = create_app(settings, engine=fresh_engine)
    headers = admin_headers(fresh_engine)
    server, thread, url = _serve(application)
    try:
        with TestClient(application, headers=headers) as client:
            yield Audited(fresh_engine, client, url, headers, public_key_hex(key), tmp_path / "saved.json",
                          tmp_path / "export.ndjson")
    finally:
        server.should_exit = True
        thread.join(30)


def _contact(engine, deal="a", version=2):
    return next(e for e in all_envelopes(engine) if e.deal_id == deal and e.stream_version == version)


def _rewrite_summary(engine, deal="a", version=2, rebuild_tree=False):
    rewrite_consistently(engine, deal, version, lambda data: {**data, "summary": "never said"},
                         rebuild_tree=rebuild_tree)
    return _contact(engine, deal, version)


def _names(text: str, env) -> bool:
    return all(s in text for s in (f"event_id {env.event_id}", f"position {env.position}", f"deal_id {env.deal_id}"))


def test_an_untouched_log_is_ok_everywhere(audited):
    result = audited.verify()
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    size = len(all_envelopes(audited.engine))
    assert body["ok"] and body["ledger"]["ok"] and body["ledger"]["checked"] == size
    assert body["ledger"]["digest"]["signature"] == "valid" and body["ledger"]["digest"]["tree_size"] == size - 1
    api = audited.client.get("/v1/audit/verify").json()
    assert api["ok"] is True and api["ledger"]["first_mismatch"] is None and api["ledger"]["checked"] == size
    for result in (audited.check(), audited.check("--export", str(audited.export)), audited.check_api(),
                   audited.check_api("--export", str(audited.export))):
        assert result.exit_code == 0, result.output
        assert f"ok: the log of {size} events extends the digest of {size - 1}" in result.output


def test_a_chain_only_rewrite_is_named_by_verify(audited):
    env = _rewrite_summary(audited.engine)
    assert env.data["summary"] == "never said" and verify_chains(audited.engine).ok  # the chains cannot tell
    result = audited.verify()
    assert result.exit_code == 1
    body = json.loads(result.output)
    mismatch = body["ledger"]["first_mismatch"]
    assert (mismatch["event_id"], mismatch["position"], mismatch["deal_id"]) == (env.event_id, env.position, "a")
    assert "no longer matches its leaf" in mismatch["reason"]
    assert body["ok"] is False and body["first_broken"]["event_id"] == env.event_id


def test_a_chain_only_rewrite_is_named_by_the_api(audited):
    env = _rewrite_summary(audited.engine)
    body = audited.client.get("/v1/audit/verify").json()
    assert body["ok"] is False and body["ledger"]["ok"] is False
    mismatch = body["ledger"]["first_mismatch"]
    assert (mismatch["event_id"], mismatch["position"], mismatch["deal_id"]) == (env.event_id, env.position, "a")
    assert body["first_broken"]["event_id"] == env.event_id and "ledger" in body["first_broken"]["reason"]


@pytest.mark.parametrize("export", [False, True])
def test_a_chain_only_rewrite_is_named_by_audit_check_on_the_database(audited, export):
    env = _rewrite_summary(audited.engine)
    result = audited.check(*(["--export", str(audited.export)] if export else []))
    assert result.exit_code == 1 and _names(result.output, env), result.output


@pytest.mark.parametrize("export", [False, True])
@pytest.mark.parametrize("block", [1024, 2])  # 2: the search goes through saved frontiers first
def test_a_chain_only_rewrite_is_named_by_audit_check_through_the_api(audited, monkeypatch, export, block):
    monkeypatch.setattr(export_leaves, "BLOCK", block)
    env = _rewrite_summary(audited.engine)
    result = audited.check_api(*(["--export", str(audited.export)] if export else []))
    assert result.exit_code == 1, result.output
    assert "no longer match the signed tree" in result.output and _names(result.output, env), result.output


@pytest.mark.parametrize("deal,version", [("a", 1), ("b", 2), ("b", 3)])
def test_any_leaf_below_the_digest_is_found_through_the_api(audited, monkeypatch, deal, version):
    """The first and last events of the digest, and one between: the search names each."""
    monkeypatch.setattr(export_leaves, "BLOCK", 2)
    env = _rewrite_summary(audited.engine, deal, version)
    assert env.position <= json.loads(audited.saved.read_text())["last_position"]
    result = audited.check_api()
    assert result.exit_code == 1 and _names(result.output, env), result.output


def test_a_rewrite_with_the_tree_rebuilt_fails_the_signed_root(audited):
    """The audit tables rebuilt from the rewritten log: every leaf matches its event again, but
    the leaves no longer rebuild the recorded digest's root; an export from then names it."""
    env = _rewrite_summary(audited.engine, rebuild_tree=True)
    body = audited.client.get("/v1/audit/verify").json()
    assert body["ok"] is False
    assert "not the root" in body["ledger"]["first_mismatch"]["reason"]
    assert "latest signed digest" in body["ledger"]["first_mismatch"]["reason"]
    named = audited.check_api("--export", str(audited.export))
    assert named.exit_code == 1 and "rewritten" in named.output and _names(named.output, env), named.output


def test_a_recorded_digest_signed_by_another_key_fails_verify(audited):
    digests.record(audited.engine, digests.issue(audited.engine, generate_private_key()))
    result = audited.verify()
    body = json.loads(result.output)
    assert result.exit_code == 1 and body["ok"] is False
    assert body["ledger"]["digest"]["signature"].startswith("digest was signed by key")
    assert "latest recorded digest" in body["ledger"]["first_mismatch"]["reason"]


def test_verify_reads_the_public_key_from_the_key_file(audited, tmp_path):
    """Without --public-key, `verify` checks the digest with the ledger key file digests are
    signed with (DEALTRAIL_AUDIT_KEY_FILE or <data-dir>/audit.key); with none, it says so."""
    url = audited.engine.url.render_as_string(hide_password=False)
    for key_file, signature in ((tmp_path / "audit.key", "valid"), (tmp_path / "absent.key", "not checked")):
        result = CliRunner().invoke(app, ["verify", "--database-url", url],
                                    env={"DEALTRAIL_AUDIT_KEY_FILE": str(key_file)})
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["ledger"]["digest"]["signature"].startswith(signature)
    assert not (tmp_path / "absent.key").exists()  # verify never creates a key


def test_audit_check_reads_the_public_key_from_the_key_file(audited, tmp_path):
    url = audited.engine.url.render_as_string(hide_password=False)
    args = ["audit", "check", "--digest", str(audited.saved), "--database-url", url]
    found = CliRunner().invoke(app, args, env={"DEALTRAIL_AUDIT_KEY_FILE": str(tmp_path / "audit.key")})
    assert found.exit_code == 0 and "ok: the log of" in found.output, found.output
    absent = CliRunner().invoke(app, args, env={"DEALTRAIL_AUDIT_KEY_FILE": str(tmp_path / "absent.key")})
    assert absent.exit_code == 2 and "no --public-key given and no key file at" in absent.output
