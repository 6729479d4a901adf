"""The export streams: memory stays flat, and the CLI writes the endpoint's bytes."""
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from events import export, export_formats
from services.cli import app as cli
from tests.integration.export_helpers import client_for, many_contacts, small_log

REHASH = Path(__file__).resolve().parents[2] / "examples" / "rehash.py"


def test_memory_stays_flat_over_a_few_thousand_events(fresh_engine):
    many_contacts(fresh_engine, deals=20, per_deal=150)
    cut = export.settle(fresh_engine, export.ExportRange())
    total = sum(len(chunk) for chunk in export_formats.encode(
        "ndjson", export.envelopes(fresh_engine, cut, chunk=100)))
    tracemalloc.start()
    lines = 0
    for _ in export_formats.encode("ndjson", export.envelopes(fresh_engine, cut, chunk=100)):
        lines += 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert lines > 3000
    assert peak < total / 4, f"peak {peak} bytes for a {total}-byte export: the log was materialized"


@pytest.fixture()
def export_cli(fresh_engine, databases, monkeypatch):
    """Run `dealtrail export` on the fresh database, logged in as the app."""
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))

    def run(*args):
        result = CliRunner().invoke(cli, ["export", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout_bytes
    return run


@pytest.mark.parametrize("fmt", export_formats.FORMATS)
def test_cli_writes_the_endpoint_bytes(fresh_engine, export_cli, tmp_path, fmt):
    small_log(fresh_engine)
    with client_for(fresh_engine) as client:
        for params in ({}, {"after": 2, "until": 5}, {"deal_id": "b"}):
            body = client.get("/v1/export", params={"format": fmt, **params}).content
            args = ["--format", fmt, *[a for k, v in params.items()
                                      for a in (f"--{'deal' if k == 'deal_id' else k}", str(v))]]
            assert export_cli(*args) == body
            assert export_cli(*args, "--output", str(tmp_path / "x")) == b""
            assert (tmp_path / "x").read_bytes() == body
        assert export_cli("--format", fmt, "--progress") == client.get("/v1/export", params={"format": fmt}).content


def _rehash(path):
    return subprocess.run([sys.executable, str(REHASH), str(path)], capture_output=True, text=True)


def test_rehash_example_checks_every_chain(fresh_engine, export_cli, tmp_path):
    many_contacts(fresh_engine, deals=3, per_deal=4)
    target = tmp_path / "log.ndjson"
    export_cli("--output", str(target))
    result = _rehash(target)
    assert result.returncode == 0 and result.stdout.startswith("ok: 16 events"), result.stderr
    lines = target.read_text().splitlines()
    event = json.loads(lines[7])
    event["data"]["channel"] = "email"
    lines[7] = json.dumps(event)
    target.write_text("\n".join(lines) + "\n")
    result = _rehash(target)
    assert result.returncode == 1 and f"line 8, event {event['event_id']}" in result.stderr


def test_rehash_example_accepts_a_partial_export(fresh_engine, export_cli, tmp_path):
    many_contacts(fresh_engine, deals=2, per_deal=3)
    target = tmp_path / "tail.ndjson"
    export_cli("--after", "5", "--output", str(target))
    assert _rehash(target).returncode == 0
