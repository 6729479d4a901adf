"""Reports "as the system knew it then": which moments can be asked about, and which log
position a report as of one reflects. The report itself reads the bitemporal read models as of
the moment (projections.reports.relations) — a query, no replay."""
from datetime import datetime

from sqlalchemy import Connection, text

from domain.errors import InvalidQuery
from projections import sales_projection as sales
from projections.runtime import checkpoints

# The newest event recorded at or before a moment (index event_recorded_at_idx).
_POSITION = """
SELECT position FROM events.event WHERE recorded_at <= :t ORDER BY recorded_at DESC, position DESC LIMIT 1
"""


def position(conn: Connection, as_of: datetime) -> int:
    """The log position a report as of `as_of` reflects: the newest event recorded by then (or
    the newest the projection has applied, if it has not caught up with that one yet). 422 for a
    moment later than the newest recorded event (its answer would change as events arrive) or
    earlier than the versions kept (an upgraded installation, until `dealtrail rebuild`)."""
    # the newest positions hold the newest clock reads (give or take a race between appends)
    newest = conn.execute(text("SELECT max(recorded_at) FROM (SELECT recorded_at FROM events.event "
                               "ORDER BY position DESC LIMIT 100) t")).scalar()
    if newest is None or as_of > newest:
        raise InvalidQuery(f"as_of {as_of.isoformat()} is later than the newest recorded event"
                           + (f" ({newest.isoformat()})" if newest else " (the log is empty)"),
                           as_of=as_of.isoformat(), newest_recorded_at=newest.isoformat() if newest else None)
    since = conn.execute(text("SELECT max(since) FROM read_models.versions_since")).scalar()
    if since is not None and as_of < since:
        raise InvalidQuery(f"versions of the read models are kept from {since.isoformat()} (the upgrade that "
                           "started keeping them); run `dealtrail rebuild` to derive every earlier one",
                           as_of=as_of.isoformat(), versions_since=since.isoformat())
    recorded = conn.execute(text(_POSITION), {"t": as_of}).scalar() or 0
    return min(recorded, checkpoints.applied_through(conn, sales.NAME))

