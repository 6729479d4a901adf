"""Calendar periods of business time (UTC): `2026-11`, `2026-Q4`, `2026` — the one parser.

An event whose period cannot be parsed would stop every projection that reads it, so the API
accepts only what `check` passes: years 1970 to 9998, so that every period's end (the first
day after it) is a date Python and PostgreSQL can hold. `parse` itself stays as lenient as
it was, so events already in the log keep projecting as before."""
import re
from datetime import date, datetime, timezone

MIN_YEAR, MAX_YEAR = 1970, 9998
SHAPE = r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"
_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


def parse(period: str) -> tuple[date, date]:
    """[start, end) as first days of months; ValueError for anything else."""
    match = _PERIOD.match(period)
    if not match:
        raise ValueError(f"period must look like 2026-11, 2026-Q4 or 2026, not {period!r}")
    year, month, quarter = int(match[1]), match[2], match[3]
    if month:
        start = date(year, int(month), 1)
        return start, _add_months(start, 1)
    if quarter:
        start = date(year, 3 * (int(quarter) - 1) + 1, 1)
        return start, _add_months(start, 3)
    return date(year, 1, 1), date(year + 1, 1, 1)


def check(period: str) -> str:
    """The period if the API may accept it; ValueError otherwise."""
    match = _PERIOD.match(period)
    if match and not MIN_YEAR <= int(match[1]) <= MAX_YEAR:
        raise ValueError(f"period year must be between {MIN_YEAR} and {MAX_YEAR}, not {match[1]}")
    parse(period)
    return period


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def bounds(period: str) -> tuple[datetime, datetime]:
    start, end = parse(period)
    return (datetime(start.year, start.month, 1, tzinfo=timezone.utc),
            datetime(end.year, end.month, 1, tzinfo=timezone.utc))
