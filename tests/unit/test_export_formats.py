"""Export encodings and parameters, without a database."""
import csv
import io
import json
from datetime import datetime, timezone

import pytest

from events.canonical import canonical_json
from events.envelope import ENVELOPE_FIELDS, Envelope
from events.export_formats import encode
from services.api.plumbing.cors import origins
from services.export_cli import parse_until

T = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)


def _env(**over) -> Envelope:
    fields = dict(event_id="e1", type="deal.contact_logged", deal_id="d1", stream_version=2, position=7,
                  occurred_at=T, recorded_at=T, actor="a", source="/s", correlation_id=None,
                  causation_id=None, schema_version=1, data={"summary": 'says "hi", then\nleaves',
                                                              "ü": "ß"}, prev_hash="1" * 64, hash="2" * 64)
    return Envelope(**{**fields, **over})


def test_ndjson_line_is_the_canonical_envelope():
    assert "".join(encode("ndjson", [_env()])) == canonical_json(_env().to_dict()) + "\n"


def test_cloudevent_leaves_out_absent_attributes():
    [line] = "".join(encode("cloudevents", [_env()])).splitlines()
    ce = json.loads(line)
    assert "dealtrailcorrelationid" not in ce and ce["dealtrailposition"] == 7
    assert json.loads("".join(encode("cloudevents", [_env(correlation_id="c")])))["dealtrailcorrelationid"] == "c"


def test_csv_quotes_data_and_round_trips():
    text = "".join(encode("csv", [_env(), _env(position=8)]))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(ENVELOPE_FIELDS) and len(rows) == 3
    row = dict(zip(rows[0], rows[1]))
    assert json.loads(row["data"]) == _env().data and row["data"] == canonical_json(_env().data)
    assert row["correlation_id"] == "" and row["occurred_at"] == "2026-11-02T09:00:00.000000Z"


def test_until_is_a_position_or_an_aware_timestamp():
    assert parse_until(None) is None and parse_until("42") == 42
    assert parse_until("2026-11-02T09:00:00Z") == T
    with pytest.raises(ValueError):
        parse_until("2026-11-02T09:00:00")


def test_cors_origins_are_a_comma_list():
    assert origins("") == [] and origins(" https://a.example , ,https://b.example") == \
        ["https://a.example", "https://b.example"]
