"""Where the log ends now, for readers that start at its head (GET /v1/events/stream without
`after`) rather than replaying it from position 0.

The highest visible position is not a clean start on its own: positions are taken before commit
(see events.log_reader), so a transaction holding position 7 may still be in flight while 8 is
visible. Starting after 8 would lose 7 for good. `opening` therefore looks at the newest
`window` positions: the reader starts before the first missing one, and `Opening.unseen` tells
which later positions it must still send (those not visible when it opened: late commits)."""
from bisect import bisect_right
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from events.tables import event

WINDOW = 10_000  # a batch's size: a transaction in flight further back than this is not waited for


@dataclass(frozen=True)
class Opening:
    after: int  # read the log after this position
    seen: tuple[tuple[int, int], ...] = ()  # visible ranges (first, last) above `after` at opening

    def unseen(self, position: int) -> bool:
        """Not visible when the reader opened: to be sent."""
        i = bisect_right(self.seen, (position, 2**63)) - 1  # the last range starting at or below it
        return i < 0 or position > self.seen[i][1]


def head_position(engine: Engine) -> int:
    """The highest visible position (0: an empty log); one index probe."""
    with engine.connect() as conn:
        top = conn.execute(select(func.coalesce(func.max(event.c.position), 0))).scalar_one()
        conn.rollback()
    return int(top)


def opening(engine: Engine, window: int = WINDOW) -> Opening:
    """Where a reader that starts now begins (see the module docstring)."""
    recent = select(event.c.position).order_by(event.c.position.desc()).limit(window).subquery()
    island = (recent.c.position - func.row_number().over(order_by=recent.c.position)).label("island")
    runs = select(island, recent.c.position).subquery()
    query = (select(func.min(runs.c.position), func.max(runs.c.position))
             .group_by(runs.c.island).order_by(func.min(runs.c.position)))
    with engine.connect() as conn:
        ranges = [(int(lo), int(hi)) for lo, hi in conn.execute(query)]
        conn.rollback()
    if not ranges:
        return Opening(0)
    return Opening(ranges[0][1], tuple(ranges[1:]))
