"""The `dealtrail` command: entry points read settings and wire things; nothing else does.

One module per command group (services/cli/): `processes` (migrate, api, relay, project, watch, up,
status), `maintenance` (rebuild, replay), `data` (demo, export), `audit` (verify, audit check), `bi`
(bi-guide, bi-login), `key_admin` (keys); what they share is in `common`. The commands are registered
here, in the order `dealtrail --help` lists them."""
import sys

import typer

from services.cli import audit, bi, data, key_admin, maintenance, processes
from services.cli.common import app

__all__ = ["app", "main"]

for command in (processes.migrate, processes.api, processes.relay, processes.project, processes.watch,
                maintenance.rebuild, maintenance.replay, data.demo):
    app.command()(command)
app.command("bi-guide")(bi.bi_guide)
for command in (processes.status, audit.verify, processes.up, data.export):
    app.command()(command)
app.add_typer(audit.audit_app, name="audit")
app.add_typer(bi.bi_app, name="bi-login")
app.add_typer(key_admin.keys_app, name="keys")


def main() -> None:
    """The `dealtrail` script: expected failures are one line on stderr (services.cli_errors)."""
    from services.cli_errors import describe
    try:
        app()
    except Exception as exc:
        line = describe(exc)
        if line is None:
            raise
        typer.echo(f"dealtrail: {line}", err=True)
        sys.exit(1)
