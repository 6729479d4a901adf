"""Maintenance of the read side: rebuild the read models from the log, replay them as of a past moment."""
from typing import Annotated, Optional

import typer

from services.cli.common import DatabaseUrl, DataDir, _database, _engine, _settings


def _progress_bar(total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed or 0:,.0f} events/s")

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                   TimeRemainingColumn())
    return bar, bar.add_task("events", total=total)


def rebuild(projections: Annotated[Optional[list[str]], typer.Argument(
                help="Projections to rebuild (default: all). Known: sales.")] = None,
            database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Rebuild read models from events.event into fresh tables, then swap them in atomically."""
    unknown = set(projections or []) - {"sales"}
    if unknown:
        typer.echo(f"unknown projection(s): {', '.join(sorted(unknown))} (known: sales)", err=True)
        raise typer.Exit(2)
    settings = _settings(database_url=database_url, data_dir=data_dir)
    with _database(settings, admin=True) as url:
        engine = _engine(url, pool_size=3, admin=True)
        _rebuild(engine, settings.snapshot_every)
        engine.dispose()


def _rebuild(engine, snapshot_every: int) -> None:
    from events.log_reader import settled_horizon
    from projections.read_models import SALES
    from projections.runtime import rebuild as rebuilding
    bar, task = _progress_bar(rebuilding.count_events(engine, settled_horizon(engine)))
    with bar:
        through = rebuilding.rebuild(SALES, engine, progress=lambda n: bar.advance(task, n),
                                     snapshot_every=snapshot_every)
    typer.echo(f"rebuilt sales through position {through}")
    _report_projection_errors(engine)


def _report_projection_errors(engine) -> None:
    from projections import sales_projection as sales
    from projections.runtime import checkpoints
    with engine.connect() as conn:
        failures = checkpoints.errors(conn, sales.NAME)
    for f in failures:
        typer.echo(f"left out event {f['event_id']} ({f['type']}, stream {f['stream_id']}, "
                   f"position {f['position']}): {f['error']}", err=True)
    if failures:
        typer.echo(f"{len(failures)} event(s) could not be applied; see read_models.projection_errors",
                   err=True)


def replay(until: Annotated[str, typer.Option(help="A position (integer) or a recorded-time timestamp.")],
           database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Build the read models as they were at a past moment into a separate schema (for auditors)."""
    from datetime import datetime
    position, recorded = (int(until), None) if until.isdigit() else (None, datetime.fromisoformat(until))
    if recorded is not None and recorded.tzinfo is None:
        typer.echo("--until timestamps need a timezone (e.g. 2026-11-01T00:00:00Z)", err=True)
        raise typer.Exit(2)
    with _database(_settings(database_url=database_url, data_dir=data_dir), admin=True) as url:
        engine = _engine(url, pool_size=3, admin=True)
        _replay(engine, position, recorded)
        engine.dispose()


def _replay(engine, position: int | None, recorded) -> None:
    from events.log_reader import settled_horizon
    from projections.read_models import SALES
    from projections.runtime import rebuild as rebuilding
    upto = min(settled_horizon(engine), position) if position is not None else settled_horizon(engine)
    bar, task = _progress_bar(rebuilding.count_events(engine, upto, recorded))
    with bar:
        schema = rebuilding.replay(SALES, engine, position, recorded, progress=lambda n: bar.advance(task, n))
    typer.echo(f"replayed into schema {schema}")
