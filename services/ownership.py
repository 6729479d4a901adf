"""Writer keys (SPEC §6): deal events only and, when bound to an owner, only deals that owner
creates or currently owns. An authorization rule, not a domain rule: it is checked in the
append transaction against the locked stream's state, apart from `decide`."""
from dataclasses import dataclass

from domain.errors import DomainError
from events.streams import Kind, StreamId


class Forbidden(DomainError):
    code = "forbidden"


@dataclass(frozen=True)
class WriterScope:
    owner_id: str | None = None  # None: any deal


def check(scope: WriterScope | None, stream_id: str, event, state) -> None:
    """Raise Forbidden unless `scope` may append `event` to the stream in `state`."""
    if scope is None:
        return
    if StreamId.parse(stream_id).kind != Kind.DEAL:
        raise Forbidden("writer keys post deal events only", stream_id=stream_id)
    if scope.owner_id is None:
        return
    if event.type == "deal.created":
        if event.data.owner_id != scope.owner_id:
            raise Forbidden(f"this key creates deals for owner {scope.owner_id} only",
                            owner_id=event.data.owner_id)
    elif state.exists and state.owner_id != scope.owner_id:
        raise Forbidden(f"deal {stream_id} is not owned by {scope.owner_id}", deal_id=stream_id)
