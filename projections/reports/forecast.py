"""Forecast (SPEC §4): weighted pipeline with the configured stage probabilities, and a
historical forecast with P(won | stage) measured on deals closed in the last 12 months (the
configured probability is used where fewer than MIN_SAMPLE deals were seen)."""
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection

from events import periods
from projections.reports.common import Source, money, qualified

MIN_SAMPLE = 10
LATE = timedelta(days=1)  # a snapshot taken later than this after its period's start is partial

# A rep or team scope without scope_id covers every rep (every deal with a team).
_SCOPE = """(%(scope)s = 'company'
    OR (%(scope)s = 'rep' AND (CAST(%(scope_id)s AS text) IS NULL OR {a}.owner_id = %(scope_id)s))
    OR (%(scope)s = 'team' AND {a}.team_id = coalesce(CAST(%(scope_id)s AS text), {a}.team_id)))"""

# Open deals expected to close in the period; the current period also takes the deals without an
# expected close date and the overdue ones (expected before it, still open).
_IN_PERIOD = """((d.expected_close_date >= %(start)s::date AND d.expected_close_date < %(end)s::date)
    OR (%(current)s AND (d.expected_close_date IS NULL OR d.expected_close_date < %(start)s::date)))"""

_OPEN = f"""
SELECT s.stage, s.stage_index, s.probability, count(d.deal_id), coalesce(sum(d.current_amount), 0)
FROM {{pipeline_stage}} s
LEFT JOIN {{deal_current}} d ON d.pipeline = s.pipeline AND d.stage = s.stage
     AND d.status = 'open' AND {_SCOPE.format(a="d")} AND {_IN_PERIOD}
WHERE s.pipeline = %(pipeline)s
GROUP BY s.stage, s.stage_index, s.probability ORDER BY s.stage_index
"""

_HISTORY = """
SELECT s.stage, count(d.deal_id), count(d.deal_id) FILTER (WHERE d.status = 'won')
FROM {pipeline_stage} s
LEFT JOIN {deal_current} d ON d.pipeline = s.pipeline AND d.status IN ('won', 'lost')
     AND d.closed_at >= %(since)s AND d.furthest_stage_index >= s.stage_index
WHERE s.pipeline = %(pipeline)s GROUP BY s.stage
"""

_WON = f"""
SELECT coalesce(sum(a.amount), 0) FROM {{deal_activity}} a
WHERE a.kind = 'won' AND a.occurred_at >= %(start)s AND a.occurred_at < %(end)s AND {_SCOPE.format(a="a")}
"""

_SNAPSHOTS = """
SELECT period, taken_at, won_to_date + historical_forecast AS forecast, as_of_position, partial,
       partial_reason
FROM read_models.forecast_snapshot
WHERE scope = %(scope)s AND scope_id = %(scope_id)s AND taken_at <= %(now)s ORDER BY period
"""


def forecast(conn: Connection, period: str, scope: str, scope_id: str | None, now: datetime,
             pipeline: str = "default", schema: Source = "read_models") -> dict:
    """The forecast from the read models in `schema` (or as of a moment), at clock `now`."""
    tables = _tables(schema)
    start, end = periods.bounds(period)
    params = {"scope": scope, "scope_id": scope_id, "pipeline": pipeline, "start": start, "end": end,
              "since": now - timedelta(days=365), "current": start <= now < end}
    history = {stage: (n, won) for stage, n, won in conn.exec_driver_sql(_HISTORY.format(**tables), params)}
    stages, weighted, historical = [], Decimal(0), Decimal(0)
    for stage, _, probability, count, amount in conn.exec_driver_sql(_OPEN.format(**tables), params):
        sample, won = history.get(stage, (0, 0))
        learned = Decimal(won) / Decimal(sample) if sample >= MIN_SAMPLE else None
        used = learned if learned is not None else probability
        weighted += amount * probability
        historical += amount * used
        stages.append({"stage": stage, "open": count, "open_amount": money(amount),
                       "probability": float(probability),
                       "historical_probability": None if learned is None else round(float(learned), 4),
                       "sample_size": sample, "weighted": money(amount * probability),
                       "historical": money(amount * used)})
    won = conn.exec_driver_sql(_WON.format(**tables), params).scalar()
    return {"period": period, "scope": scope, "scope_id": scope_id, "won_to_date": money(won),
            "weighted_pipeline": money(weighted), "historical_forecast": money(historical),
            "expected_total_weighted": money(won + weighted),
            "expected_total_historical": money(won + historical), "stages": stages,
            "accuracy": accuracy(conn, scope, scope_id, now, schema)}


def accuracy(conn: Connection, scope: str, scope_id: str | None, now: datetime,
             schema: Source = "read_models") -> list[dict]:
    """Forecast taken at the start of each finished period (by `now`) vs what was won in it.
    The snapshots themselves are kept in read_models (the watcher writes them as it goes)."""
    out = []
    rows = conn.exec_driver_sql(_SNAPSHOTS, {"scope": scope, "scope_id": scope_id, "now": now}).all()
    for period, taken_at, predicted, position, partial, reason in rows:
        start, end = periods.bounds(period)
        if end > now:
            continue
        actual = conn.exec_driver_sql(_WON.format(**_tables(schema)),
                                      {"scope": scope, "scope_id": scope_id, "start": start, "end": end}).scalar()
        error = (predicted - actual) / actual if actual and not partial else None
        out.append({"period": period, "taken_at": taken_at, "as_of_position": position, "forecast": money(predicted),
                    "actual": money(actual), "error": None if error is None else round(float(error), 4),
                    "partial": partial, "partial_reason": reason})
    return out


def _tables(schema: Source) -> dict[str, str]:
    return {t: qualified(schema, t) for t in ("pipeline_stage", "deal_current", "deal_activity")}


def partial_reason(period: str, now: datetime) -> str | None:
    """Why a snapshot taken at `now` is not the forecast of the period's start (None if it is):
    taken more than LATE after the start, the pipeline it saw had already moved on."""
    start, _ = periods.bounds(period)
    if now - start <= LATE:
        return None
    return (f"taken {now:%Y-%m-%d %H:%M} UTC, after the period started on {start:%Y-%m-%d}: "
            "the pipeline then, not at the period start")


_INSERT_SNAPSHOT = """
INSERT INTO read_models.forecast_snapshot (period, scope, scope_id, taken_at, weighted_pipeline,
    historical_forecast, won_to_date, as_of_position, partial, partial_reason)
VALUES (%(p)s, %(s)s, %(i)s, %(t)s, %(w)s, %(h)s, %(won)s,
        (SELECT coalesce(max(position), 0) FROM read_models.projection_checkpoint WHERE partition = -1),
        %(partial)s, %(reason)s)
ON CONFLICT DO NOTHING
"""


def snapshot(conn: Connection, period: str, scope: str, scope_id: str, now: datetime) -> bool:
    """Record the forecast for a period once (at its start; later ones are marked partial);
    False if one exists already."""
    body = forecast(conn, period, scope, scope_id, now)
    reason = partial_reason(period, now)
    inserted = conn.exec_driver_sql(_INSERT_SNAPSHOT, {
        "p": period, "s": scope, "i": scope_id, "t": now, "w": Decimal(body["weighted_pipeline"]),
        "h": Decimal(body["historical_forecast"]), "won": Decimal(body["won_to_date"]),
        "partial": reason is not None, "reason": reason})
    return inserted.rowcount == 1
