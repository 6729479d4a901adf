"""The audit endpoints: a signed digest of the whole log, proofs that verify with the RFC 9162
verifiers of events.merkle, and 404/422 at the edges."""
import uuid

import pytest
from fastapi.testclient import TestClient

from events.digest import check_digest
from events.merkle import event_leaf_hash, root_of, verify_consistency, verify_inclusion
from infra.settings import Settings
from services.api.app import create_app
from tests import factories as f
from tests.integration.ledger_helpers import all_envelopes, leaves
from tests.integration.relay_helpers import append
from tests.keys import admin_headers


@pytest.fixture()
def audit_api(fresh_engine, tmp_path):
    for deal in ("a", "b", "c"):
        append(fresh_engine, deal, f.created())
        append(fresh_engine, deal, f.contact())
    settings = Settings(DATABASE_URL="unused", DEALTRAIL_AUDIT_KEY_FILE=tmp_path / "audit.key")
    with TestClient(create_app(settings, engine=fresh_engine), headers=admin_headers(fresh_engine)) as client:
        yield client, fresh_engine


def unhex(hashes):
    return [bytes.fromhex(h) for h in hashes]


def test_digest_is_signed_by_the_published_key(audit_api):
    client, engine = audit_api
    digest = client.get("/v1/audit/digest").json()
    key = client.get("/v1/audit/public-key").json()
    assert key["algorithm"] == "ed25519" and key["key_id"] == digest["key_id"]
    assert check_digest(digest, key["public_key"]) is None
    envelopes = all_envelopes(engine)
    assert digest["tree_size"] == len(envelopes) and digest["last_position"] == envelopes[-1].position


def test_every_inclusion_proof_verifies_against_the_digest(audit_api):
    client, engine = audit_api
    digest = client.get("/v1/audit/digest").json()
    root = bytes.fromhex(digest["root_hash"])
    for index, env in enumerate(all_envelopes(engine)):
        proof = client.get("/v1/audit/proof", params={"event_id": env.event_id,
                                                      "tree_size": digest["tree_size"]}).json()
        assert proof["leaf_index"] == index and proof["tree_size"] == digest["tree_size"]
        assert verify_inclusion(index, digest["tree_size"], event_leaf_hash(env.hash),
                                unhex(proof["audit_path"]), root)


def test_consistency_proofs_verify_between_digests(audit_api):
    client, engine = audit_api
    old = client.get("/v1/audit/digest").json()
    append(engine, "d", f.created())
    append(engine, "a", f.moved("lead", "contacted"))
    new = client.get("/v1/audit/digest").json()
    assert new["tree_size"] == old["tree_size"] + 2
    body = client.get("/v1/audit/consistency", params={"first": old["tree_size"]}).json()
    assert body["second"] == new["tree_size"]
    assert verify_consistency(old["tree_size"], new["tree_size"], bytes.fromhex(old["root_hash"]),
                              bytes.fromhex(new["root_hash"]), unhex(body["proof"]))
    hashes = leaves(engine)
    for first in range(old["tree_size"] + 1):  # every older size, against the auditor's own roots
        body = client.get("/v1/audit/consistency", params={"first": first, "second": len(hashes)}).json()
        assert verify_consistency(first, len(hashes), root_of(hashes[:first]), root_of(hashes),
                                  unhex(body["proof"]))


def test_unknown_event_is_404(audit_api):
    client, _ = audit_api
    response = client.get("/v1/audit/proof", params={"event_id": str(uuid.uuid4())})
    assert response.status_code == 404 and response.json()["error"]["code"] == "event_not_found"


@pytest.mark.parametrize("delta", [-1, +1])
def test_proof_tree_size_outside_the_event_and_the_tree_is_422(audit_api, delta):
    client, engine = audit_api
    envelopes = all_envelopes(engine)
    size = len(envelopes)
    event_id, tree_size = ((envelopes[3].event_id, 3) if delta < 0 else (envelopes[0].event_id, size + 1))
    response = client.get("/v1/audit/proof", params={"event_id": event_id, "tree_size": tree_size})
    assert response.status_code == 422


@pytest.mark.parametrize("first,second", [(3, 2), (1, 10_000)])
def test_consistency_outside_the_tree_is_422(audit_api, first, second):
    client, _ = audit_api
    response = client.get("/v1/audit/consistency", params={"first": first, "second": second})
    assert response.status_code == 422
