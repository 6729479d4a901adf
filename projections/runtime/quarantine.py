"""Events a projection cannot apply are left out of their stream, reported, and never stop
the other streams (one poison event must not wedge every worker and every rebuild).

The derivations are pure functions of a stream's events, so the culprit is found by deriving
growing prefixes of the stream: the first prefix that fails ends with it. It is then left out
(as if voided) and the stream derived again without it."""
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import psycopg2

log = logging.getLogger("dealtrail.projection")
T = TypeVar("T")


class Ev(Protocol):
    """What isolating an event needs of it (a projection's own event record, e.g. deals.rows.Ev)."""
    event_id: str
    type: str
    position: int


@dataclass(frozen=True)
class Failure:
    """One event (or, with event_id None, a whole stream's write) a projection gave up on."""
    stream_id: str
    position: int
    event_id: str | None
    type: str | None
    error: str

    def row(self, projection: str) -> tuple:
        return (projection, self.stream_id, self.position, self.event_id, self.type, self.error)


def refused(exc: BaseException) -> bool:
    """The database refused the data (a constraint, a value out of range), as opposed to being
    unavailable: retrying the same rows cannot help. COPY raises psycopg2's errors unwrapped."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, psycopg2.DatabaseError) and not isinstance(orig, psycopg2.OperationalError)


def describe(exc: BaseException) -> str:
    """The error without volatile context (a database error's first line, not its statement)."""
    orig = exc if isinstance(exc, psycopg2.Error) else getattr(exc, "orig", None)
    if orig is not None:
        first = (str(orig).strip().splitlines() or [""])[0]
        return f"{getattr(orig, 'pgcode', None) or orig.__class__.__name__}: {first}"[:1000]
    return f"{exc.__class__.__name__}: {exc}"[:1000]


def guarded(derive_one: Callable[[str, list[Ev]], T], stream_id: str,
            events: Sequence[Ev]) -> tuple[T | None, list[Failure]]:
    """`derive_one(stream_id, events)`, leaving out each event it cannot apply."""
    kept, failures = list(events), []
    while True:
        try:
            return derive_one(stream_id, kept), failures
        except Exception as exc:  # any bug or bad data in one stream: isolate it, keep going
            culprit, error = _culprit(derive_one, stream_id, kept, exc)
            failures.append(Failure(stream_id, culprit.position, culprit.event_id, culprit.type, error))
            log.error("cannot apply event %s (%s, stream %s, position %d): %s; left out",
                      culprit.event_id, culprit.type, stream_id, culprit.position, error)
            kept = [e for e in kept if e is not culprit]
            if not kept:
                return None, failures


def _culprit(derive_one, stream_id: str, events: list[Ev], exc: Exception) -> tuple[Ev, str]:
    for end in range(1, len(events) + 1):
        try:
            derive_one(stream_id, events[:end])
        except Exception as prefix_exc:  # the first failing prefix ends with the culprit
            return events[end - 1], describe(prefix_exc)
    return events[-1], describe(exc)


def stream_failure(stream_id: str, position: int, exc: BaseException) -> Failure:
    """A stream whose rows could not be written (the database refused them)."""
    log.error("cannot write stream %s (through position %d): %s; left as it was",
              stream_id, position, describe(exc))
    return Failure(stream_id, position, None, None, describe(exc))


def as_rows(projection: str, failures: Sequence[Failure]) -> list[tuple]:
    return [f.row(projection) for f in failures]

