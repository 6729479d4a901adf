"""GET /v1/deals: list, search, sort and page the deals of the read models.

Strict by design: besides the app-wide check on unknown parameters (services.api.plumbing.strict),
a stage no known pipeline has, inverted ranges and cursors this sort did not issue are 422
`invalid_query` naming the parameter, because an empty page would look like a true answer."""
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection

from domain.errors import InvalidQuery
from events.values import Day, Id, NonNegativeAmount, Timestamp
from projections import sales_projection as sales
from projections.reports import deals as deal_list
from projections.reports.keyset import After, BadCursor, Sort
from projections.runtime import checkpoints
from services.api.plumbing.deps import EngineDep
from services.api.plumbing.errors import documented
from services.api.plumbing.models import DealPageOut
from services.api.plumbing.params import Filter

router = APIRouter(tags=["deals"], responses=documented(422))

SortKey = Literal[deal_list.SORTS]  # type: ignore[valid-type]
Cursor = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,1000}$",
                                     description="`next_cursor` of the previous page, as given (opaque).")]
Amount = Annotated[NonNegativeAmount | None, Query(
    description="Decimal string, compared with current_amount (latest quote, else expected amount); inclusive.")]
Created = Annotated[Timestamp | None, Query(
    description="Business time (created_at), ISO-8601 with a timezone; created_from inclusive, created_to exclusive.")]
Close = Annotated[Day | None, Query(description="expected_close_date, ISO-8601 date; both bounds inclusive.")]
Stage = Annotated[Id | None, Query(description="An open stage of a known pipeline, or won/lost (else 422).")]
Status = Annotated[Literal["open", "won", "lost"] | None, Query(description="open, won or lost.")]


def deal_filter(q: Annotated[Id | None, Query(description="Case-insensitive text in title or customer name.")] = None,
                stage: Stage = None, status: Status = None,
                owner_id: Filter = None, team_id: Filter = None, segment: Filter = None,
                customer_id: Filter = None,
                stalled: Annotated[bool | None, Query(description="true: only stalled deals (see read_models."
                                                    "stalled_deals); false: only deals not stalled.")] = None,
                min_amount: Amount = None, max_amount: Amount = None,
                created_from: Created = None, created_to: Created = None,
                close_from: Close = None, close_to: Close = None) -> deal_list.DealFilter:
    """The filters as one value; each is ANDed with the others."""
    return deal_list.DealFilter(q=q, stage=stage, status=status, owner_id=owner_id, team_id=team_id,
                                segment=segment, customer_id=customer_id, stalled=stalled,
                                min_amount=min_amount, max_amount=max_amount, created_from=created_from,
                                created_to=created_to, close_from=close_from, close_to=close_to)


def _ordered(low_name: str, low: Any, high_name: str, high: Any, *, strict: bool) -> None:
    if low is not None and high is not None and (low >= high if strict else low > high):
        raise InvalidQuery(f"{low_name} must be {'before' if strict else 'at most'} {high_name}",
                           parameter=low_name, **{low_name: str(low), high_name: str(high)})


def _check(conn: Connection, f: deal_list.DealFilter) -> None:
    if f.stage is not None and f.stage not in (stages := deal_list.known_stages(conn)):
        raise InvalidQuery(f"stage: unknown stage '{f.stage}' (no known pipeline has it)",
                           parameter="stage", value=f.stage, known=sorted(stages))
    _ordered("min_amount", f.min_amount, "max_amount", f.max_amount, strict=False)
    _ordered("created_from", f.created_from, "created_to", f.created_to, strict=True)
    _ordered("close_from", f.close_from, "close_to", f.close_to, strict=False)


def _after(sort: Sort, cursor: str | None) -> After | None:
    try:
        return None if cursor is None else sort.decode(cursor)
    except BadCursor as exc:
        raise InvalidQuery(f"cursor: {exc}", parameter="cursor") from None


@router.get("/v1/deals", response_model=DealPageOut)
def list_deals(engine: EngineDep, filters: Annotated[deal_list.DealFilter, Depends(deal_filter)],
               sort: Annotated[SortKey, Query(description="Order; `-` for descending. Ties: deal_id.")] = "deal_id",
               cursor: Cursor = None,
               limit: Annotated[int, Query(ge=1, le=500, description="Page size, 1-500.")] = 100) -> dict[str, Any]:
    """Deals from the read models (eventually consistent): filtered, searched, sorted, in keyset
    pages; `total` counts every match. Page, total and `as_of_position` come from one snapshot."""
    order = deal_list.sort_by(sort)
    after = _after(order, cursor)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        _check(conn, filters)
        page = deal_list.search(conn, filters, order, after, limit)
        return {**page, "sort": sort, "as_of_position": checkpoints.applied_through(conn, sales.NAME)}
