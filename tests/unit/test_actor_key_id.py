"""`actor_key_id` in the envelope: left out when null, so events without it (the system's own,
and every event from before it existed) hash exactly as before; hashed when set; carried by
every export format. And the reserved sources a client may not claim."""
import csv
import io
import json
from datetime import datetime, timezone

import pytest

from events import export_formats
from events.canonical import chain_hash
from events.envelope import sealed
from services.origins import is_reserved

# The hash of this envelope as the code before actor_key_id computed it (pinned, not recomputed).
PINNED = "e76ad75ac67f33627df1a1009e85cbd23c532364cc10a4b95f3502e23fb12a76"
KEY_ID = "0b7e5c4a-9d3f-4e21-8a6b-1c2d3e4f5a6b"


def _sealed(**over):
    fields = dict(event_id="5f0c6a1e-2b7d-4c19-9a2e-6d1e0f4b7a31", type="deal.created", deal_id="acme-1",
                  stream_version=1, position=42, occurred_at=datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc),
                  recorded_at=datetime(2026, 11, 2, 9, 0, 0, 123456, tzinfo=timezone.utc), actor="ann",
                  source="/v1/api", correlation_id="c-1", causation_id=None, schema_version=1,
                  data={"title": "Acme", "expected_amount": "1250.00"}, prev_hash="0" * 64)
    return sealed(**fields | over)


def test_an_event_without_a_key_id_hashes_and_encodes_as_before():
    for env in (_sealed(), _sealed(actor_key_id=None)):
        assert env.hash == env.computed_hash() == PINNED
        assert "actor_key_id" not in env.to_dict() and "actor_key_id" not in env.to_json()
        assert "dealtrailactorkeyid" not in export_formats.cloudevent(env)


def test_a_key_id_is_inside_the_hash():
    env = _sealed(actor_key_id=KEY_ID)
    body = json.loads(env.to_json())
    assert body["actor_key_id"] == KEY_ID
    del body["hash"]
    assert env.hash == env.computed_hash() == chain_hash(env.prev_hash, body) != PINNED
    assert _sealed(actor_key_id=KEY_ID.replace("0b", "0c")).hash != env.hash  # a rewrite shows


def test_every_export_format_carries_the_key_id():
    with_key, without = _sealed(actor_key_id=KEY_ID), _sealed()
    lines = list(export_formats.ndjson([with_key, without]))
    assert json.loads(lines[0])["actor_key_id"] == KEY_ID and "actor_key_id" not in json.loads(lines[1])
    assert export_formats.cloudevent(with_key)["dealtrailactorkeyid"] == KEY_ID
    rows = list(csv.DictReader(io.StringIO("".join(export_formats.csv_rows([with_key, without])))))
    assert [r["actor_key_id"] for r in rows] == [KEY_ID, ""]
    assert [r["hash"] for r in rows] == [with_key.hash, PINNED]


@pytest.mark.parametrize("source", ["/bootstrap", "/watch", "/Bootstrap", " /watch/ ", "/watch/x",
                                    "import:salesforce", "IMPORT:x"])
def test_the_systems_sources_are_reserved(source):
    assert is_reserved(source)


@pytest.mark.parametrize("source", ["/v1/api", "/crm-sync", "/bootstrapper", "watch", "imports:x"])
def test_other_sources_are_free(source):
    assert not is_reserved(source)
