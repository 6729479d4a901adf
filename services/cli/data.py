"""Data in and out: `demo` posts a generated sales organisation, `export` writes the log."""
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer

from services.cli.common import DatabaseUrl, DataDir, _database, _engine, _settings


def demo(deals: Annotated[int, typer.Option(min=1, help="How many deals.")] = 2000,
         seed: Annotated[int, typer.Option(help="Same seed (and --end), same events.")] = 1,
         end: Annotated[Optional[str], typer.Option(help="Last business day (default: today, UTC).")] = None,
         api_url: Annotated[str, typer.Option(envvar="DEALTRAIL_API_URL")] = "http://127.0.0.1:8000",
         api_key: Annotated[Optional[str], typer.Option(
             envvar="DEALTRAIL_API_KEY", help="A writer (unbound), manager or admin key "
             "(default: <data-dir>/admin.key).")] = None,
         data_dir: DataDir = None) -> None:
    """Post a realistic sales organisation through the batch API of a running Dealtrail."""
    from datetime import datetime, timezone

    import httpx

    from services.demo import generate
    until = datetime.fromisoformat(end) if end else datetime.now(timezone.utc).replace(
        hour=0, minute=0, second=0, microsecond=0)
    if until.tzinfo is None:
        until = until.replace(tzinfo=timezone.utc)
    posted = batch = 0
    items: list[dict] = []
    headers = {"Authorization": f"Bearer {api_key or _admin_key(data_dir)}"}
    with httpx.Client(base_url=api_url, timeout=300, headers=headers) as client:
        for item in generate(deals, seed, until):
            items.append(item)
            if len(items) == 5000:
                posted += _post_batch(client, items)
                batch, items = batch + 1, []
                typer.echo(f"demo: batch {batch}, {posted} events posted (deal {item['deal_id']} of {deals})", err=True)
        posted += _post_batch(client, items)
    typer.echo(f"posted {posted} events for {deals} deals (seed {seed}, end {until.date()})")


def _admin_key(data_dir: Path | None) -> str:
    path = _settings(data_dir=data_dir).data_dir / "admin.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        typer.echo(f"no --api-key (DEALTRAIL_API_KEY) and no {path}", err=True)
        raise typer.Exit(2) from None


def _post_batch(client, items: list[dict]) -> int:
    if not items:
        return 0
    response = client.post("/v1/events/batch", json={"events": items})
    if response.status_code not in (200, 201):
        typer.echo(f"batch rejected: {response.status_code} {response.text[:500]}", err=True)
        raise typer.Exit(1)
    return len(items)


def export(fmt: Annotated[str, typer.Option("--format", help="ndjson, cloudevents or csv.")] = "ndjson",
           deal: Annotated[Optional[str], typer.Option("--deal", help="Only this stream.")] = None,
           after: Annotated[int, typer.Option(min=0, help="Positions after this one.")] = 0,
           until: Annotated[Optional[str], typer.Option(
               help="Last position, or a recorded-time timestamp (inclusive).")] = None,
           output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File (default: stdout).")] = None,
           progress: Annotated[Optional[bool], typer.Option(
               "--progress/--no-progress", help="Progress bar on stderr (default: if stderr is a terminal).")] = None,
           database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Export the log in position order, the same bytes as GET /v1/export (docs/audit.md: Export)."""
    from events.export import ExportRange
    from events.export_formats import FORMATS
    from services import export_cli
    if fmt not in FORMATS:
        typer.echo(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", err=True)
        raise typer.Exit(2)
    try:
        wanted = ExportRange(after, export_cli.parse_until(until), deal)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    show = sys.stderr.isatty() if progress is None else progress
    with _database(_settings(database_url=database_url, data_dir=data_dir)) as url:
        engine = _engine(url, pool_size=2)
        with (open(output, "wb") if output else nullcontext(sys.stdout.buffer)) as out:
            export_cli.run(engine, fmt, wanted, out, show)
        engine.dispose()
