"""The digest signing key: created once, 0600, the same key for every process that loads it."""
import stat
from pathlib import Path

from events.digest import public_key_hex
from infra.settings import Settings
from services.audit_key import key_path, load_or_create


def test_created_once_with_mode_0600_and_loaded_again(tmp_path):
    path = tmp_path / "audit.key"
    first = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_hex(load_or_create(path)) == public_key_hex(first)
    assert [p.name for p in tmp_path.iterdir()] == ["audit.key"]  # no temporary file left


def test_the_key_file_setting_wins_over_the_data_dir(tmp_path):
    assert key_path(Settings(DEALTRAIL_DATA_DIR=tmp_path)) == tmp_path / "audit.key"
    chosen = tmp_path / "elsewhere.pem"
    assert key_path(Settings(DEALTRAIL_DATA_DIR=tmp_path, DEALTRAIL_AUDIT_KEY_FILE=chosen)) == Path(chosen)
