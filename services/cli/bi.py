"""For BI tools: the generated guide (`bi-guide`) and database logins (`bi-login create|list|drop`)."""
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from infra import logins
from infra.settings import Settings
from services.cli.common import DatabaseUrl, DataDir, _database, _settings


def bi_guide(output: Annotated[Path, typer.Option(help="Where to write it.")] = Path("docs/bi.md")) -> None:
    """Write the BI guide (tables, views, columns, example SQL) from the read models' comments."""
    from projections import bi_guide as guide
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(guide.render())
    typer.echo(f"wrote {output}")


bi_app = typer.Typer(no_args_is_help=True, help="Database logins for BI tools (read_models only).")


def bi_url(settings: Settings, owner_url: str, name: str, password: str) -> str:
    """How a BI tool connects as `name`: over TCP to the embedded PostgreSQL when it listens there
    (`up --pg-port`; the server's own listen_addresses and port say so), else the database URL
    itself (its socket or host) with the new login."""
    address = None if settings.database_url else logins.tcp_address(owner_url)
    if address is not None:
        database = make_url(owner_url).database
        return f"postgresql://{name}:{password}@{address[0]}:{address[1]}/{database}"
    return make_url(logins.login_url(owner_url, name, password)).set(drivername="postgresql").render_as_string(
        hide_password=False)


@bi_app.command("create")
def bi_login_create(name: str, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Make a LOGIN role in bi_reader (SELECT on read_models only) and print its connection URL
    (the password is shown this once). Run `dealtrail up --pg-port N` to reach the embedded
    database over TCP."""
    settings = _settings(database_url=database_url, data_dir=data_dir)
    with _database(settings, admin=True) as url:
        try:
            password = logins.create_bi_login(url, name, logins.limits_of(settings))
        except logins.BadLogin as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        typer.echo(bi_url(settings, url, name, password))


@bi_app.command("list")
def bi_login_list(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """The BI logins made by `bi-login create`."""
    with _database(_settings(database_url=database_url, data_dir=data_dir), admin=True) as url:
        for name in logins.bi_logins(url):
            typer.echo(name)


@bi_app.command("drop")
def bi_login_drop(name: str, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Remove a BI login made by `bi-login create`."""
    with _database(_settings(database_url=database_url, data_dir=data_dir), admin=True) as url:
        try:
            logins.drop_bi_login(url, name)
        except logins.BadLogin as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        typer.echo(f"dropped {name}")
