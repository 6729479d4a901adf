"""Deal lists and search over read_models.deal_current, in SQLAlchemy Core: the statement's
shape follows which filters are present and input only travels as bound parameters. Rows
carry every deal_current column (new columns appear without touching this module) plus
`stalled`; pages are keyset pages (projections.reports.keyset) with the total of all matches."""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Exists, Numeric, column, exists, func, or_, select, table

from domain.pipelines import TERMINAL, known
from events import store
from projections.reports.common import money
from projections.reports.keyset import After, Sort
from projections.tables.declared import deal_current

SORT_KEYS = ("deal_id", "created_at", "stage_entered_at", "current_amount", "last_activity_at")
SORTS = tuple(f"{sign}{key}" for key in SORT_KEYS for sign in ("", "-"))
_NULLABLE = {"current_amount"}  # sort keys that are NULL in practice (no expected amount, no quote)
_EXACT = ("stage", "status", "owner_id", "team_id", "segment", "customer_id")
_MONEY = tuple(c.name for c in deal_current.c if isinstance(c.type, Numeric))
_stalled = table("stalled_deals", column("deal_id"), schema="read_models")


@dataclass(frozen=True)
class DealFilter:
    """Every filter of GET /v1/deals; None matches everything (`stalled=False`: the deals that
    are not stalled)."""
    q: str | None = None
    stage: str | None = None
    status: str | None = None
    owner_id: str | None = None
    team_id: str | None = None
    segment: str | None = None
    customer_id: str | None = None
    stalled: bool | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    close_from: date | None = None
    close_to: date | None = None


def sort_by(name: str) -> Sort:
    """`created_at` ascending, `-created_at` descending; ties broken by deal_id. Deals without an
    amount come last either way; the timestamps are set at creation, so they keep PostgreSQL's
    NULL order and one (column, deal_id) index serves both directions."""
    key = name.removeprefix("-")
    return Sort(deal_current.c[key], deal_current.c.deal_id, name.startswith("-"), nulls_last=key in _NULLABLE)


def known_stages(conn: Connection) -> set[str]:
    """Open stages of every known pipeline (the code's default and those defined by events), won, lost."""
    pipelines = known(store.pipeline_stage_lists(conn)).values()
    return {key for pipeline in pipelines for key in pipeline.keys} | set(TERMINAL)


def _between(col: Column, low: Any, high: Any, high_inclusive: bool) -> list[ColumnElement[bool]]:
    conditions = [] if low is None else [col >= low]
    if high is not None:
        conditions.append(col <= high if high_inclusive else col < high)
    return conditions


def _is_stalled() -> Exists:
    """The stalled filter: a semi-join with the view (which owns the rule)."""
    return exists().where(_stalled.c.deal_id == deal_current.c.deal_id)


def _search(q: str) -> ColumnElement[bool]:
    """Case-insensitive substring of title or customer name; % and _ in q are literal."""
    return or_(deal_current.c.title.icontains(q, autoescape=True),
               deal_current.c.customer_name.icontains(q, autoescape=True))


def conditions(f: DealFilter) -> list[ColumnElement[bool]]:
    found = [deal_current.c[name] == getattr(f, name) for name in _EXACT if getattr(f, name) is not None]
    if f.q is not None:
        found.append(_search(f.q))
    found += _between(deal_current.c.current_amount, f.min_amount, f.max_amount, high_inclusive=True)
    found += _between(deal_current.c.created_at, f.created_from, f.created_to, high_inclusive=False)
    if f.close_from is not None or f.close_to is not None:
        found += _between(deal_current.c.expected_close_date, f.close_from, f.close_to, high_inclusive=True)
    if f.stalled is not None:
        found.append(_is_stalled() if f.stalled else ~_is_stalled())
    return found


def _stalled_among(conn: Connection, deal_ids: list[str]) -> set[str]:
    """Asked for the page's deals only: the view then reads them by key, not every open deal."""
    if not deal_ids:
        return set()
    return set(conn.execute(select(_stalled.c.deal_id).where(_stalled.c.deal_id.in_(deal_ids))).scalars())


def _row(row: Any, stalled: bool) -> dict[str, Any]:
    return {**row, **{name: money(row[name]) for name in _MONEY}, "stalled": stalled}


def search(conn: Connection, f: DealFilter, sort: Sort, after: After | None, limit: int) -> dict[str, Any]:
    """One page in `sort` order after `after`, its next cursor, and the total of all matches."""
    where = conditions(f)
    page = select(*deal_current.c).where(*where, *([sort.after(after)] if after else []))
    rows = conn.execute(page.order_by(*sort.order_by()).limit(limit + 1)).mappings().all()
    total = conn.execute(select(func.count()).select_from(deal_current).where(*where)).scalar_one()
    stalled = _stalled_among(conn, [r["deal_id"] for r in rows[:limit]])
    return {"deals": [_row(r, r["deal_id"] in stalled) for r in rows[:limit]], "total": total,
            "next_cursor": sort.cursor(rows[limit - 1]) if len(rows) > limit else None}
