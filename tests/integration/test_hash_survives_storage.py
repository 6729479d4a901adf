"""Issue 23, finding 2: every value the API accepts re-hashes identically after PostgreSQL's jsonb
has stored it (jsonb prints 1e16 as 10000000000000000 and -0.0 as 0.0, while the hash was made
of Python's spelling), so `dealtrail verify`, `/v1/audit/verify`, `dealtrail audit check` and
examples/rehash.py on the export agree; what cannot be kept exactly is a 422."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from events.digest import generate_private_key, public_key_hex
from events.verify import verify_chains
from services import digests
from services.cli import app
from tests import factories as f
from tests.integration.export_helpers import client_for
from tests.integration.helpers import assert_error, log_size

REHASH = Path(__file__).resolve().parents[2] / "examples" / "rehash.py"
FOUND_IN_ISSUE = ["1e16", "-0.0", "1.5e300", "12345678901234567.5", "1E+16", "-1e22", "0.0", "1e-7",
                  "5e-324", "1.7976931348623157e308", "123456789012345678901234567890", "1e-400", "1e309"]
_INT = st.from_regex(r"\A-?(0|[1-9][0-9]{0,30})\Z")
_NUMBERS = st.one_of(
    st.sampled_from(FOUND_IN_ISSUE), _INT,
    st.builds(lambda i, frac, exp: f"{i}{frac}{exp}", _INT,
              st.from_regex(r"\A(\.[0-9]{1,25})?\Z"), st.from_regex(r"\A([eE][+-]?[0-9]{1,3})?\Z")),
    st.floats(allow_nan=False, allow_infinity=False).map(repr))
_SURROGATES = st.sampled_from(['"\\ud800"', '"a\\udfffb"', '"\\ud83d\\ude00"', '"\\u0000"', '"\\u2028\\u00e9"'])
_STRINGS = st.one_of(st.builds(lambda s, ascii_only: json.dumps(s, ensure_ascii=ascii_only), st.text(max_size=40),
                               st.booleans()), _SURROGATES)


def _body(number: str, string: str, title: str) -> bytes:
    """deal.updated with a number and a string in custom fields and a string in `title`, as text
    (the client's own spelling, which json= would re-format)."""
    return ('{"type": "deal.updated", "data": {"title": %s, "fields": {"n": %s, "s": %s}}}'
            % (title, number, string)).encode("utf-8", "surrogatepass")


@pytest.fixture()
def logged(fresh_engine):
    with client_for(fresh_engine) as client:
        assert client.post("/v1/deals/d1/events", json=f.created()).status_code == 201
        yield fresh_engine, client


def test_accepted_values_rehash_identically_after_storage(logged, tmp_path):
    engine, client = logged
    key = generate_private_key()
    saved = tmp_path / "digest.json"
    saved.write_text(json.dumps(digests.issue(engine, key)))
    outcomes = {"accepted": 0, "refused": 0}

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(number=_NUMBERS, string=_STRINGS, title=_STRINGS, declared_route=st.booleans())
    def post_one(number, string, title, declared_route):
        # the lean lane takes application/json; another JSON media type goes to the declared route
        media = "application/vnd.dealtrail+json" if declared_route else "application/json"
        before = log_size(engine)
        response = client.post("/v1/deals/d1/events", content=_body(number, string, title),
                               headers={"content-type": media})
        if response.status_code == 422:
            assert_error(response, 422, "validation_error")
            assert log_size(engine) == before
            outcomes["refused"] += 1
            return
        assert response.status_code == 201, response.text
        outcomes["accepted"] += 1
        stored = client.get("/v1/deals/d1/events", params={"after_version": response.json()["stream_version"] - 1,
                                                            "limit": 1}).json()["events"][0]
        assert stored["hash"] == response.json()["hash"]
    post_one()
    assert outcomes["accepted"] > 10 and outcomes["refused"] > 0, outcomes

    assert verify_chains(engine).ok
    verified = client.get("/v1/audit/verify").json()
    assert verified["ok"] is True, verified
    url = engine.url.render_as_string(hide_password=False)
    cli = CliRunner().invoke(app, ["verify", "--database-url", url])
    assert cli.exit_code == 0, cli.output
    check = CliRunner().invoke(app, ["audit", "check", "--digest", str(saved), "--public-key",
                                     public_key_hex(key), "--database-url", url])
    assert check.exit_code == 0 and "ok: the log of" in check.output, check.output
    export = tmp_path / "export.ndjson"
    export.write_bytes(client.get("/v1/export", params={"format": "ndjson"}).content)
    rehash = subprocess.run([sys.executable, str(REHASH), str(export)], capture_output=True, text=True)
    assert rehash.returncode == 0 and rehash.stdout.startswith("ok: "), rehash.stdout + rehash.stderr


@pytest.mark.parametrize("number, stored", [("1e16", 10000000000000000), ("-0.0", 0.0), ("1.5e300", 15 * 10**299),
                                            ("12345678901234567.5", 12345678901234568), ("0.5", 0.5),
                                            ("1e-7", 1e-07)])
def test_floats_are_kept_as_jsonb_gives_them_back(logged, number, stored):
    """The issue's values: stored as jsonb returns them, so the hash made before storing holds."""
    engine, client = logged
    body = _body(number, '"x"', '"t"')
    for media in ("application/json", "application/vnd.dealtrail+json"):
        response = client.post("/v1/deals/d1/events", content=body, headers={"content-type": media})
        assert response.status_code == 201, response.text
        events = client.get("/v1/deals/d1/events").json()["events"]
        value = events[-1]["data"]["fields"]["n"]
        assert value == stored and type(value) is type(stored) and repr(value) == repr(stored)
    assert verify_chains(engine).ok


@pytest.mark.parametrize("number, problem", [("1e-400", "too small for a float"), ("1e309", "too large for a float"),
                                             ("-2.5e-330", "too small for a float")])
def test_floats_that_cannot_be_kept_are_422(logged, number, problem):
    engine, client = logged
    for media in ("application/json", "application/vnd.dealtrail+json"):
        before = log_size(engine)
        response = client.post("/v1/deals/d1/events", content=_body(number, '"x"', '"t"'),
                               headers={"content-type": media})
        error = assert_error(response, 422, "validation_error")
        assert problem in error["message"] and log_size(engine) == before
