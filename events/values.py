"""Value types shared by the event payloads and the API, bounded to what the code can hold.

Bounds, so that one accepted request can never poison a projection or a report:
- timestamps carry a timezone offset of at most ±14:00 (PostgreSQL refuses ±16:00, which
  Python accepts), are ISO-8601 strings (never bare numbers) and lie in
  [1970-01-01T00:00:00Z, 9999-01-01T00:00:00Z) after conversion to UTC (year 1 at +14:00
  would overflow that conversion);
- dates and periods lie in the years 1970-9998 (every period's end is representable);
- text holds no NUL (PostgreSQL cannot store it in text or jsonb); ids hold no control
  characters at all;
- decimals are finite with bounded digits, so sums stay exact; given as text they are plain
  ASCII decimals (`"1250.00"`: no spaces, `_`, exponents or other scripts' digits, which
  Python's Decimal would all take);
- counts and versions are JSON integers (never `true` or `"2"`, which lax parsing reads as 1
  and 2)."""
import math
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

import pycountry
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, PlainSerializer, StringConstraints

from events import periods

EARLIEST = datetime(periods.MIN_YEAR, 1, 1, tzinfo=timezone.utc)
END = datetime(periods.MAX_YEAR + 1, 1, 1, tzinfo=timezone.utc)  # exclusive
MAX_OFFSET = timedelta(hours=14)  # the widest real one (Kiribati); PostgreSQL's limit is under 16h
_ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
NO_NUL = r"^[^\x00]*$"


def _iso_timestamp(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_TIMESTAMP.match(value)):
        return value
    raise ValueError("must be an ISO-8601 timestamp with a timezone, e.g. 2026-11-02T09:00:00Z")


def _timestamp_in_range(value: datetime) -> datetime:
    if abs(value.utcoffset()) > MAX_OFFSET:
        raise ValueError("the UTC offset must lie between -14:00 and +14:00")
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < END:
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%dT%H:%M:%SZ} and {periods.MAX_YEAR}-12-31T23:59:59Z")
    return value  # unchanged: the offset the client sent is part of what it posted


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be an ISO-8601 date, e.g. 2026-11-30")


def _date_in_range(value: date) -> date:
    if not periods.MIN_YEAR <= value.year <= periods.MAX_YEAR:
        raise ValueError(f"must lie between {periods.MIN_YEAR}-01-01 and {periods.MAX_YEAR}-12-31")
    return value


_PLAIN_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def _plain_decimal(value: Any) -> Any:
    """JSON numbers come parsed (int or Decimal, infra.jsontext); text must be ASCII digits."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError("must be a decimal number or a decimal string such as \"1250.00\"")
    if isinstance(value, str) and not _PLAIN_DECIMAL.match(value):
        raise ValueError("must be a plain decimal string: ASCII digits with an optional - and "
                         "fraction, e.g. \"1250.00\"")
    return value


def float_range(value: Any) -> Any:
    """A number with a fraction or an exponent (a Decimal, infra.jsontext) becomes a float: one too
    small would be stored as 0.0, one too large is no number at all; both refused, not rounded."""
    if isinstance(value, Decimal) and value.is_finite() and value != 0:
        as_float = float(value)  # the exponent is bounded by the body parser: quick
        if as_float == 0.0:
            raise ValueError(f"{value} is too small for a float (it would be stored as 0.0)")
        if math.isinf(as_float):
            raise ValueError(f"{value} is too large for a float")
    return value


def stored_float(value: Any) -> Any:
    """The float as PostgreSQL's jsonb gives it back, so that a hash made before storing it
    still matches after (issue 23): jsonb keeps a number as an exact decimal and prints it
    positionally, so a float Python writes with a positive exponent (1e+16, 1.5e+300: every
    one from 1e16 up is integral) comes back as an integer, and -0.0 as 0.0 (jsonb has no
    negative zero). Every other float comes back as the same float, as Python writes it."""
    if type(value) is not float:
        return value
    if value == 0.0:
        return 0.0
    text = repr(value)
    return int(Decimal(text)) if "e+" in text else value


def _iso_currency(code: str) -> str:
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"'{code}' is not an ISO-4217 currency code")
    return code


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_timestamp), AfterValidator(_timestamp_in_range)]
Day = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_date_in_range)]
Period = Annotated[str, StringConstraints(pattern=periods.SHAPE), AfterValidator(periods.check),
                   Field(examples=["2026-11", "2026-Q4", "2026"],
                         description=f"A month, quarter or year from {periods.MIN_YEAR} to {periods.MAX_YEAR}.")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NO_NUL)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_CONTROL)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_iso_currency)]
# Decimals are stored as fixed-point strings ("1000", never "1E+3") so they round-trip exactly.
FixedPoint = PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json")
PlainDecimal = BeforeValidator(_plain_decimal)
Amount = Annotated[Decimal, PlainDecimal, Field(gt=0, max_digits=20, decimal_places=4, allow_inf_nan=False), FixedPoint]
NonNegativeAmount = Annotated[
    Decimal, PlainDecimal, Field(ge=0, max_digits=20, decimal_places=4, allow_inf_nan=False), FixedPoint]
Number = Annotated[Decimal, PlainDecimal, Field(max_digits=24, decimal_places=6, allow_inf_nan=False), FixedPoint]
Version = Annotated[int, Field(ge=0, le=2**31 - 1, strict=True)]
Metric = Literal["revenue", "deals_won", "new_deals", "win_rate", "avg_cycle_days", "contacts"]
ReviewMetric = Metric | Literal["stalled_deals"]
Scope = Literal["rep", "team", "company"]
