"""Keyset pagination on one sort column with a unique tie-break column, and opaque cursors.

Why keyset and not OFFSET: an offset page skips or repeats rows when rows change between two
requests and gets slower the deeper a client pages; a position (sort value, tie-break) does
neither. The tie-break (deal_id) is unique, so rows with equal sort values still have exactly
one place each. NULLs sort last in both directions where a column has them in practice (a deal
without an amount is not "the largest" one); elsewhere they sort as PostgreSQL does by default
(as the largest value), so that one btree index on (column, tie-break) serves both directions.

A cursor is urlsafe base64 (unpadded) of JSON `{"s": sort, "v": value, "d": tie-break}`. It is
opaque to clients and checked on the way in: a cursor this sort did not issue raises BadCursor
rather than quietly answering some other page."""
import base64
import binascii
import json
import operator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy import Column, ColumnElement, Date, DateTime, Integer, Numeric, UnaryExpression, and_, or_, tuple_

from events.values import Day, Id, Number, Timestamp

_BIGINT = Annotated[int, Field(ge=-2**63, lt=2**63)]
_LOADERS = ((DateTime, TypeAdapter(Timestamp)), (Date, TypeAdapter(Day)), (Numeric, TypeAdapter(Number)),
            (Integer, TypeAdapter(_BIGINT)))
_TEXT = TypeAdapter(Id)


class BadCursor(ValueError):
    """The cursor was not issued for this sort (wrong encoding, shape, sort or value)."""


@dataclass(frozen=True)
class After:
    """The last row of the previous page: its sort value and its tie-break."""
    value: Any
    tiebreak: str


@dataclass(frozen=True)
class Sort:
    column: Column
    tiebreak: Column
    descending: bool = False
    nulls_last: bool = True  # False: NULL is the largest value (first when descending)

    @property
    def name(self) -> str:
        return ("-" if self.descending else "") + self.column.name

    def _direction(self, column: Column) -> UnaryExpression:
        return column.desc() if self.descending else column.asc()

    def order_by(self) -> list[UnaryExpression]:
        if self.column is self.tiebreak:
            return [self._direction(self.tiebreak)]
        first = self._direction(self.column)
        return [first.nulls_last() if self.nulls_last else first, self._direction(self.tiebreak)]

    def after(self, position: After) -> ColumnElement[bool]:
        """Rows strictly past `position` in this order."""
        beyond = operator.lt if self.descending else operator.gt
        if self.column is self.tiebreak:
            return beyond(self.tiebreak, position.tiebreak)
        nulls_after_values = self.nulls_last or not self.descending
        if position.value is None:
            among_nulls = and_(self.column.is_(None), beyond(self.tiebreak, position.tiebreak))
            return among_nulls if nulls_after_values else or_(among_nulls, self.column.is_not(None))
        past = beyond(tuple_(self.column, self.tiebreak), tuple_(position.value, position.tiebreak))
        return or_(past, self.column.is_(None)) if nulls_after_values else past

    def cursor(self, row: Any) -> str:
        """The cursor of the page that follows `row` (a mapping with both columns)."""
        payload = {"s": self.name, "v": _dump(row[self.column.name]), "d": row[self.tiebreak.name]}
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, token: str) -> After:
        payload = _payload(token)
        if payload["s"] != self.name:
            raise BadCursor(f"the cursor belongs to another sort, not sort={self.name}")
        return After(self._load(payload["v"]), _load(_TEXT, payload["d"]))

    def _load(self, value: Any) -> Any:
        if value is None:
            return None
        adapter = next((a for kind, a in _LOADERS if isinstance(self.column.type, kind)), _TEXT)
        return _load(adapter, value)


def _dump(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")  # fixed point, exact: never "1E+3"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _load(adapter: TypeAdapter, value: Any) -> Any:
    if not isinstance(value, str):
        raise BadCursor("the cursor holds a value of the wrong type")
    try:
        return adapter.validate_python(value)
    except ValidationError:
        raise BadCursor("the cursor holds a malformed value") from None


def _payload(token: str) -> dict[str, Any]:
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        payload = json.loads(raw.decode())
    except (binascii.Error, ValueError):
        raise BadCursor("not a cursor this API issued (use next_cursor as given)") from None
    if not isinstance(payload, dict) or set(payload) != {"s", "v", "d"}:
        raise BadCursor("not a cursor this API issued (use next_cursor as given)")
    return payload
