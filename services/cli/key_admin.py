"""API keys (`dealtrail keys create|list|revoke`), administered against the database."""
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from services.cli.common import DatabaseUrl, DataDir, _database, _engine, _settings

keys_app = typer.Typer(no_args_is_help=True, help="API keys (admin): create, list, revoke.")


RoleOption = Annotated[str, typer.Option(help="writer, manager, auditor or admin.")]


@contextmanager
def _keys_engine(database_url: str | None, data_dir: Path | None):
    """The database of --data-dir / DATABASE_URL, as `verify` finds it (app login: auth.api_key)."""
    with _database(_settings(database_url=database_url, data_dir=data_dir)) as url:
        engine = _engine(url, pool_size=1)
        try:
            yield engine
        finally:
            engine.dispose()


def _key_json(api_key, **extra) -> str:
    return json.dumps({**api_key.to_dict(), **extra}, default=str, indent=2)


@keys_app.command("create")
def keys_create(name: str, role: RoleOption = "writer",
                owner_id: Annotated[Optional[str], typer.Option(help="Bind a writer key to this owner.")] = None,
                database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Create a key; its secret (`key`) is printed this once and stored only as a hash."""
    from services import keys
    if role not in {r.value for r in keys.Role} or (owner_id and role != keys.Role.WRITER):
        typer.echo("role must be writer, manager, auditor or admin; --owner-id binds writer keys only", err=True)
        raise typer.Exit(2)
    with _keys_engine(database_url, data_dir) as engine:
        try:
            key, secret = keys.create(engine, name, role, owner_id)
        except keys.NameTaken as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(1) from None
    typer.echo(_key_json(key, key=secret))


@keys_app.command("list")
def keys_list(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Every key (never a secret), revoked ones with their revocation time."""
    from services import keys
    with _keys_engine(database_url, data_dir) as engine:
        listed = keys.listed(engine)
    typer.echo(json.dumps({"keys": [k.to_dict() for k in listed]}, default=str, indent=2))


@keys_app.command("revoke")
def keys_revoke(key_id: str, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Revoke a key (idempotent); running APIs stop accepting it within their auth cache TTL (5 s).
    The last active admin key is refused: create another admin key first."""
    from services import keys
    with _keys_engine(database_url, data_dir) as engine:
        try:
            key = keys.revoke(engine, key_id)
        except (keys.KeyNotFound, keys.LastAdminKey) as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(1) from None
    typer.echo(_key_json(key))
