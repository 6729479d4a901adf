"""Target arithmetic (SPEC §4), pure: attainment, pace, status and the deviation rule.
The read_models.target_attainment view computes the same for BI; a test keeps them equal."""
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

CUMULATIVE = {"revenue", "deals_won", "new_deals", "contacts"}
LOWER_IS_BETTER = {"avg_cycle_days"}
MIN_ELAPSED = Decimal("0.25")


@dataclass(frozen=True)
class Assessment:
    elapsed_fraction: Decimal
    pace: Decimal
    attainment: Decimal | None
    status: str          # on_track | at_risk | behind
    deviation: bool      # the rule that opens a review fired


def elapsed_fraction(start: date, end: date, now: datetime) -> Decimal:
    begin = datetime(start.year, start.month, start.day, tzinfo=timezone.utc)
    finish = datetime(end.year, end.month, end.day, tzinfo=timezone.utc)
    fraction = (now - begin).total_seconds() / (finish - begin).total_seconds()
    return Decimal(str(min(1.0, max(0.0, fraction))))


def assess(metric: str, target: Decimal, actual: Decimal | None, start: date, end: date,
           now: datetime, threshold: Decimal = Decimal("0.2")) -> Assessment:
    elapsed = elapsed_fraction(start, end, now)
    pace = target * elapsed if metric in CUMULATIVE else target
    lower = metric in LOWER_IS_BETTER
    if actual is None:
        return Assessment(elapsed, pace, None, "on_track", False)
    attainment = (target / actual if actual else None) if lower else (actual / target if target else None)
    if (actual <= pace) if lower else (actual >= pace):
        status = "on_track"
    elif (actual <= pace * (1 + threshold)) if lower else (actual >= pace * (1 - threshold)):
        status = "at_risk"
    else:
        status = "behind"
    behind = actual > pace * (1 + threshold) if lower else actual < pace * (1 - threshold)
    return Assessment(elapsed, pace, attainment, status, behind and elapsed >= MIN_ELAPSED)
