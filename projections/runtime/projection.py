"""What the runtime (worker, rebuild, replay) asks of a projection, and nothing more: the runtime
imports no projection. A projection is wired in where a process starts (services/cli/); the
sales read models are one (projections.read_models.SALES), a test defines another.

The runtime owns the bookkeeping: per-stream applied positions (projection_stream), the events a
projection left out (projection_errors), the watermark and partitions (projection_checkpoint),
all keyed by the projection's `name`. A projection's `apply` marks what it applied through
runtime.checkpoints.mark_streams, in the schema it is given, so a rebuild's marks go into the build
schema with its rows and are swapped in with them."""
from collections.abc import Callable, Iterable
from typing import Protocol

from sqlalchemy import Connection, Engine

from projections.runtime.quarantine import Failure

Progress = Callable[[int], None]
# A row of the rebuild's scan of events.event, in stream order (runtime.rebuild._SCAN):
# (stream_id, event_id, type, stream_version, position, occurred_at, data, schema_version, recorded_at)
ScannedEvent = tuple


class Projection(Protocol):
    name: str  # stored in the bookkeeping rows: never rename a projection that has rows
    lock: str  # the infra.coordination lock its writers take turns with (worker, rebuild, maintenance)
    build_schema: str  # where a rebuild builds its tables before swapping them in
    snapshot_every: int | None  # the default grid of its periodic snapshots (None: it takes none)

    def apply(self, conn: Connection, schema: str, upto: dict[str, int]) -> list[Failure]:
        """Apply the streams in `upto` (stream id -> newest position to include), events not yet
        applied; mark them applied; return the events it had to leave out."""

    def give_up(self, conn: Connection, schema: str, stream_id: str, position: int,
                exc: BaseException) -> Failure:
        """The database refused a stream's rows: keep its old rows, record why, mark it applied."""

    def create_tables(self, conn: Connection, schema: str) -> None:
        """Its tables, empty, in the fresh `schema` (the runtime created the schema and the
        bookkeeping tables in it)."""

    def derive(self, conn: Connection, schema: str, scanned: Iterable[ScannedEvent], progress: Progress) -> None:
        """Fill its tables in `schema` from a range of streams' events (several ranges may be
        derived at once, each by a process of its own); mark the streams applied."""

    def finish(self, engine: Engine, schema: str, upto: int, snapshot_every: int | None) -> None:
        """Once every range is in: what is computed across streams (sums, indexes, snapshots)."""

    def swap_in(self, conn: Connection, schema: str) -> None:
        """Move its tables from `schema` into read_models (under its lock, in the caller's
        transaction), with their grants; recreate the views over them."""

    def snapshot(self, conn: Connection, every: int) -> bool:
        """Take one periodic snapshot that is due (under its lock); False if none is."""
