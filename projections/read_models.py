"""The sales read models (deals and their history, sums and roll-ups, targets, reviews and
pipelines) as one runtime Projection: what the worker, rebuild and replay are handed at the
entry points (services/cli/processes.py, services/cli/maintenance.py). Its stored name stays
"sales" (checkpoint rows hold it).

Live, a poll is applied by projections.sales_projection; in bulk, a range of streams is derived
by projections.sales_rebuild and the tables are declared in projections.tables."""
from collections.abc import Iterable

from sqlalchemy import Connection, Engine

from infra import coordination
from projections import sales_projection, sales_rebuild
from projections.runtime import checkpoints
from projections.runtime.projection import Progress, ScannedEvent
from projections.runtime.quarantine import Failure
from projections.sums import snapshots
from projections.tables import build


class SalesProjection:
    name = sales_projection.NAME
    lock = coordination.PROJECTION_SALES
    build_schema = "read_models_build"
    snapshot_every = snapshots.EVERY

    def apply(self, conn: Connection, schema: str, upto: dict[str, int]) -> list[Failure]:
        return sales_projection.apply(conn, schema, upto)

    def give_up(self, conn: Connection, schema: str, stream_id: str, position: int,
                exc: BaseException) -> Failure:
        return sales_projection.give_up(conn, schema, stream_id, position, exc)

    def create_tables(self, conn: Connection, schema: str) -> None:
        build.create_tables(conn, schema)

    def derive(self, conn: Connection, schema: str, scanned: Iterable[ScannedEvent], progress: Progress) -> None:
        sales_rebuild.derive(conn, schema, scanned, progress)

    def finish(self, engine: Engine, schema: str, upto: int, snapshot_every: int | None) -> None:
        sales_rebuild.finish(engine, schema, upto, snapshot_every)

    def swap_in(self, conn: Connection, schema: str) -> None:
        build.swap_in(conn, schema)

    def snapshot(self, conn: Connection, every: int) -> bool:
        """The sums snapshots due on the grid (projections.sums.snapshots), one at a time."""
        return bool(snapshots.take(conn, checkpoints.applied_through(conn, self.name), every=every))


SALES = SalesProjection()
