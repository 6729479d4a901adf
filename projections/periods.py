"""Calendar periods of business time (UTC): `2026-11`, `2026-Q4`, `2026`."""
import re
from datetime import date, datetime, timezone

_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


def parse(period: str) -> tuple[date, date]:
    """[start, end) as first days of months."""
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


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def bounds(period: str) -> tuple[datetime, datetime]:
    start, end = parse(period)
    return (datetime(start.year, start.month, 1, tzinfo=timezone.utc),
            datetime(end.year, end.month, 1, tzinfo=timezone.utc))
