"""Stream ids, parsed and formatted in one place. A deal's stream id is its deal_id; the
loop's streams are `target:<id>`, `review:<id>` and `pipeline:<key>` (events.event.deal_id
holds all of them)."""
from dataclasses import dataclass
from enum import StrEnum

SEPARATOR = ":"


class Kind(StrEnum):
    DEAL = "deal"
    TARGET = "target"
    REVIEW = "review"
    PIPELINE = "pipeline"


@dataclass(frozen=True)
class StreamId:
    kind: Kind
    key: str

    @classmethod
    def parse(cls, stream_id: str) -> "StreamId":
        prefix, sep, key = stream_id.partition(SEPARATOR)
        if sep and prefix in _LOOP_KINDS:
            return cls(Kind(prefix), key)
        return cls(Kind.DEAL, stream_id)

    def __str__(self) -> str:
        return self.key if self.kind is Kind.DEAL else f"{self.kind}{SEPARATOR}{self.key}"

    @property
    def is_deal(self) -> bool:
        return self.kind is Kind.DEAL


_LOOP_KINDS = {k.value for k in Kind if k is not Kind.DEAL}


def stream_id(kind: Kind, key: str) -> str:
    return str(StreamId(kind, key))


def prefix(kind: Kind) -> str:
    """The start of every stream id of a loop kind (for range scans)."""
    return f"{kind}{SEPARATOR}"


def is_deal_stream(stream: str) -> bool:
    return StreamId.parse(stream).is_deal
