"""The body of `dealtrail export`: the same cut and the same encoder as GET /v1/export, written
as UTF-8 bytes, with a progress bar on stderr that counts events, not bytes."""
import sys
from contextlib import nullcontext
from datetime import datetime
from typing import BinaryIO

from events import export, export_formats


def parse_until(value: str | None) -> int | datetime | None:
    """A position (digits) or a recorded time (ISO-8601 with a timezone), as the API takes it."""
    if value is None or value.isdigit():
        return None if value is None else int(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("--until timestamps need a timezone (e.g. 2026-11-01T00:00:00Z)")
    return moment


def run(engine, fmt: str, wanted: export.ExportRange, out: BinaryIO, progress: bool) -> None:
    cut = export.settle(engine, wanted)
    bar = _bar(export.count(engine, cut)) if progress else None
    with bar[0] if bar else nullcontext():
        for chunk in export_formats.encode(fmt, _counted(export.envelopes(engine, cut), bar)):
            out.write(chunk.encode("utf-8"))
    out.flush()


def _counted(envs, bar):
    for env in envs:
        if bar:
            bar[0].advance(bar[1])
        yield env


def _bar(total: int):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    bar = Progress(TextColumn("[bold]export"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(file=sys.stderr))
    return bar, bar.add_task("export", total=total)
