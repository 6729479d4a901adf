"""What the watcher (services/watch.py) finds due each round, read from the read models: targets
deviating from their pace by the one target rule, reps past the stalled level, and the forecast
snapshots of the current periods not taken yet. Reads only: the watcher appends the events."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, text

# Targets that deviate at `now`, by the one target rule (read_models.target_* functions, also
# behind the target_attainment view), and have no deviation review yet.
_DEVIATING = """
SELECT t.target_id, t.scope, t.scope_id, t.period, t.metric, t.value, a.actual, p.pace,
       read_models.target_status(t.metric, a.actual, p.pace, %(threshold)s) AS status
FROM read_models.targets t JOIN read_models.target_actuals a USING (target_id)
CROSS JOIN LATERAL (SELECT read_models.elapsed_fraction(t.period_start, t.period_end, %(now)s) AS elapsed) e
CROSS JOIN LATERAL (SELECT read_models.target_pace(t.metric, t.value, e.elapsed) AS pace) p
WHERE t.period_start <= %(today)s
  AND read_models.target_deviates(t.metric, a.actual, p.pace, %(threshold)s, e.elapsed)
  AND NOT EXISTS (SELECT 1 FROM read_models.reviews r WHERE r.review_id = 'dev-' || md5(t.target_id))
"""
_STALLED = """
SELECT owner_id, count(*) AS stalled FROM read_models.stalled_deals
WHERE owner_id IS NOT NULL GROUP BY owner_id HAVING count(*) >= %(level)s
"""
_SCOPES = """
SELECT DISTINCT 'team', team_id FROM read_models.deal_current WHERE team_id IS NOT NULL
UNION SELECT DISTINCT 'rep', owner_id FROM read_models.deal_current WHERE owner_id IS NOT NULL
"""


def deviating_targets(conn: Connection, now: datetime, threshold: Decimal) -> list:
    """Rows (target_id, scope, scope_id, period, metric, value, actual, pace, status) of the
    targets deviating at `now` that have no deviation review (`'dev-' || md5(target_id)`) yet."""
    return conn.exec_driver_sql(_DEVIATING, {"today": now.date(), "now": now,
                                             "threshold": threshold}).mappings().all()


def stalled_reps(conn: Connection, level: int) -> list[tuple[str, int]]:
    """(owner_id, stalled deals) of each rep with at least `level` stalled deals."""
    return [tuple(r) for r in conn.exec_driver_sql(_STALLED, {"level": level}).all()]


def snapshot_scopes(conn: Connection) -> list[tuple[str, str]]:
    """Every scope a forecast snapshot is taken for: the company, each team, each rep."""
    return [("company", "company")] + [tuple(r) for r in conn.execute(text(_SCOPES))]


def snapshots_taken(conn: Connection, periods: list[str]) -> set[tuple[str, str, str]]:
    """(period, scope, scope_id) of the forecast snapshots already taken for `periods`."""
    return {tuple(r) for r in conn.execute(text(
        "SELECT period, scope, scope_id FROM read_models.forecast_snapshot WHERE period = ANY(:p)"),
        {"p": periods})}
