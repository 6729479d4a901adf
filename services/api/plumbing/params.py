"""Query and path parameters, bounded like the event values (events.values): a filter holds
no control character, timestamps are ISO-8601 with a timezone, periods lie in 1970-9998."""
from typing import Annotated

from fastapi import Path, Query

from events.schema import DEAL_ID_PATTERN
from events.values import Id, Period, Timestamp

Filter = Annotated[Id | None, Query(description="Exact match; absent matches everything.")]
PeriodQuery = Annotated[Period, Query()]
PeriodFilter = Annotated[Period | None, Query()]
_BUSINESS = "Business time (occurred_at), ISO-8601 with a timezone, e.g. 2026-11-01T00:00:00Z."
From = Annotated[Timestamp | None, Query(alias="from", description=_BUSINESS + " Inclusive.")]
To = Annotated[Timestamp | None, Query(alias="to", description=_BUSINESS + " Exclusive.")]
At = Annotated[Timestamp | None, Query(description=_BUSINESS)]
AsOf = Annotated[Timestamp | None, Query(
    description="Recorded time, ISO-8601 with a timezone: the answer as the system knew it then.")]
StreamKey = Annotated[str, Path(pattern=DEAL_ID_PATTERN)]
IdPath = Annotated[Id, Path()]
