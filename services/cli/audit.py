"""Integrity checks: `verify` (hash chains, Merkle leaves, the latest signed digest) and `audit check`
(does the log extend a saved digest)."""
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.settings import Settings
from services.cli.common import DatabaseUrl, DataDir, _database, _engine, _settings

PublicKey = Annotated[Optional[str], typer.Option(
    "--public-key", envvar="DEALTRAIL_AUDIT_PUBLIC_KEY",
    help="The signer's Ed25519 public key, hex (default: from the key file of --data-dir / "
         "DEALTRAIL_AUDIT_KEY_FILE, or GET /v1/audit/public-key with --api-url).")]


def verify(public_key: PublicKey = None, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Recompute every hash chain, check every event against its Merkle leaf and the latest
    signed digest; exit 1 and name the first broken event if any."""
    from services.verification import verify_log
    settings = _settings(database_url=database_url, data_dir=data_dir)
    public_key = public_key or _key_file_public_key(settings)
    with _database(settings) as url:
        engine = _engine(url, pool_size=2)  # extending the tree reads the log beside its transaction
        try:
            result = verify_log(engine, public_key)
        finally:
            engine.dispose()
    typer.echo(json.dumps(result, indent=2))
    raise typer.Exit(0 if result["ok"] else 1)


def _key_file_public_key(settings: Settings) -> str | None:
    """The ledger key's public half, from the key file digests are signed with (None if absent)."""
    from events.digest import load_private_key, public_key_hex
    from services.audit_key import key_path
    path = key_path(settings)
    return public_key_hex(load_private_key(path.read_bytes())) if path.exists() else None


audit_app = typer.Typer(no_args_is_help=True, help="Ledger digests: check the log against a saved one.")


@audit_app.command("check")
def audit_check(
        digest: Annotated[Path, typer.Option("--digest", exists=True, dir_okay=False,
                                             help="A digest saved earlier (JSON from GET /v1/audit/digest).")],
        public_key: PublicKey = None,
        export: Annotated[Optional[Path], typer.Option(
            "--export", exists=True, dir_okay=False,
            help="NDJSON export (one event with its `hash` a line, position order) taken when the "
                 "digest was: names the first rewritten event.")] = None,
        api_url: Annotated[Optional[str], typer.Option("--api-url", help="Check through a running API.")] = None,
        api_key: Annotated[Optional[str], typer.Option("--api-key", envvar="DEALTRAIL_API_KEY")] = None,
        database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Prove that the log extends a saved digest; exit 1 naming the problem if it does not."""
    from services import audit_check as checking
    saved = checking.load_digest(digest)
    settings = _settings(database_url=database_url, data_dir=data_dir)
    if api_url:
        outcome = _check_via_api(checking, saved, api_url, api_key, public_key, export)
    else:
        outcome = _check_via_database(checking, saved, settings, public_key, export)
    typer.echo(outcome.message, err=not outcome.ok)
    raise typer.Exit(0 if outcome.ok else 1)


def _check_via_api(checking, saved: dict, api_url: str, api_key: str | None, public_key: str | None, export):
    import httpx
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(base_url=api_url, headers=headers, timeout=60) as client:
        if public_key is None:
            public_key = client.get("/v1/audit/public-key").raise_for_status().json()["public_key"]
        return checking.check_with_api(client, saved, public_key, export)


def _check_via_database(checking, saved: dict, settings: Settings, public_key: str | None, export):
    from services.audit_key import key_path
    public_key = public_key or _key_file_public_key(settings)
    if public_key is None:
        typer.echo(f"no --public-key given and no key file at {key_path(settings)}", err=True)
        raise typer.Exit(2)
    with _database(settings) as url:
        engine = _engine(url, pool_size=2)
        try:
            return checking.check_with_database(engine, saved, public_key, export)
        finally:
            engine.dispose()
