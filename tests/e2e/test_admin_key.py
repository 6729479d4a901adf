"""SPEC §6: the first `up` creates an admin key, prints `admin API key: <key>` once and keeps it
in <data-dir>/admin.key (0600); a second start prints nothing new; `dealtrail keys` manages keys
on the same database."""
import json
import subprocess
import sys

import httpx

from tests.e2e.helpers import Up

LINE = "admin API key: "


def _keys(data_dir, *args):
    result = subprocess.run([sys.executable, "-m", "services.cli", "keys", *args, "--data-dir", str(data_dir)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_up_prints_the_admin_key_once_across_two_starts(first_up, tmp_path):
    up = first_up
    up.wait_ready()
    printed = [line for line in up.lines if LINE in line]
    assert printed == [f"{LINE}{up.key}\n"]
    assert (up.data_dir / "admin.key").stat().st_mode & 0o777 == 0o600
    assert httpx.get(f"{up.base}/v1/keys", headers=up.headers).status_code == 200
    assert httpx.get(f"{up.base}/v1/keys").status_code == 401
    writer = _keys(up.data_dir, "create", "cli-writer", "--role", "writer", "--owner-id", "rep-1")
    assert httpx.get(f"{up.base}/v1/deals", headers={"Authorization": f"Bearer {writer['key']}"}).status_code == 200
    assert writer["key_id"] in {k["key_id"] for k in _keys(up.data_dir, "list")["keys"]}
    assert _keys(up.data_dir, "revoke", writer["key_id"])["revoked_at"]
    assert up.interrupt() == 0
    again = Up(tmp_path)
    try:
        again.wait_ready()
        assert not [line for line in again.lines if LINE in line]
        assert httpx.get(f"{again.base}/v1/keys", headers=up.headers).status_code == 200
        assert httpx.get(f"{again.base}/v1/deals",
                         headers={"Authorization": f"Bearer {writer['key']}"}).status_code == 401
    finally:
        assert again.interrupt() == 0
