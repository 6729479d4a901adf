"""A deal derivation's resume point as stored (read_models.deal_fold_point.point, JSON text). Pure.

A point stored by another version of the fold or of this format reads as None: the deal is
then derived again from its events (the point is a cache, never the truth)."""
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain import deal_codec
from events.canonical import jsonb_text
from infra import jsontext
from projections.deals.rows import Point, StageVisit

FORMAT = 2
_VISIT_TIMES = ("entered_at", "exited_at")


def dumps(point: Point) -> str:
    """The stored text (JSON; read back whole, never queried: a text column, no jsonb parse)."""
    return jsonb_text(to_json(point))


def loads(text: str) -> Point | None:
    return from_json(jsontext.loads(text))


def to_json(point: Point) -> dict[str, Any]:
    visit = point.open_visit
    return {"format": FORMAT, "state": deal_codec.to_stored(point.state), "position": point.position,
            "latest_at": _time(point.latest_at), "visit_counts": point.visit_counts, "counts": point.counts,
            "owners": [[_time(since), owner, team] for since, owner, team in point.owners],
            "open_visit": None if visit is None else {k: _time(v) if k in _VISIT_TIMES else v
                                                      for k, v in visit._asdict().items()}}


def from_json(data: Mapping[str, Any]) -> Point | None:
    if data.get("format") != FORMAT:
        return None
    state = deal_codec.from_json(data["state"])
    if state is None:
        return None
    visit = data["open_visit"]
    if visit is not None:
        visit = StageVisit(**{k: _parse(v) if k in _VISIT_TIMES else v for k, v in visit.items()})
    owners = [(_parse(since), owner, team) for since, owner, team in data["owners"]]
    return Point(state, data["position"], _parse(data["latest_at"]), dict(data["visit_counts"]), visit,
                 dict(data["counts"]), owners)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
