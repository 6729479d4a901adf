"""Performance report (SPEC §3/§4): per rep or team over a month, quarter or year, summed
from the monthly tables (ratios recomputed from the sums, never averaged)."""
from sqlalchemy import Connection

from events import periods
from projections.reports.common import Source, money, qualified, ratio
from projections.reports.relations import AsOf

_QUERY = """
SELECT {who}, {team}
       sum(revenue_won), sum(deals_won), sum(deals_lost), sum(cycle_days_sum), sum(contacts),
       sum(quotes), sum(new_deals), sum(csat_sum), sum(csat_count),
       (array_agg(open_deals ORDER BY month DESC))[1]
FROM {table} WHERE month >= %(start)s AND month < %(end)s
GROUP BY {who} ORDER BY {who}
"""


# As of a moment, from the versioned deal_activity and deal_stage_history rows (the same figures
# as the monthly views give): the period's months summed; open_deals and the rep's team at the
# latest month with activity — the visits open at its end, and its latest activity (index probes).
_AS_OF = """
WITH act AS (
    SELECT a.month, a.{who} AS who, coalesce(sum(a.amount) FILTER (WHERE a.kind = 'won'), 0) AS revenue_won,
           count(*) FILTER (WHERE a.kind = 'won')::integer AS deals_won,
           count(*) FILTER (WHERE a.kind = 'lost')::integer AS deals_lost,
           trim_scale(coalesce(sum(a.cycle_days::numeric) FILTER (WHERE a.kind = 'won'), 0))::float8 AS cycle_days_sum,
           count(*) FILTER (WHERE a.kind = 'contact')::integer AS contacts,
           count(*) FILTER (WHERE a.kind = 'quote')::integer AS quotes,
           count(*) FILTER (WHERE a.kind = 'created')::integer AS new_deals,
           coalesce(sum(a.score) FILTER (WHERE a.kind = 'feedback'), 0)::integer AS csat_sum,
           count(*) FILTER (WHERE a.kind = 'feedback')::integer AS csat_count
    FROM {activity} a WHERE a.{who} IS NOT NULL AND a.month >= %(start)s AND a.month < %(end)s
    GROUP BY a.month, a.{who}),
latest AS (
    SELECT l.who, l.month, ((l.month + interval '1 month') AT TIME ZONE 'UTC') AS month_end
    FROM (SELECT who, max(month) AS month FROM act GROUP BY who) l),
at_latest AS MATERIALIZED (
    SELECT l.who, {team_probe}
           (SELECT count(*) FROM {visits} v WHERE v.{who} = l.who AND v.entered_at < l.month_end
              AND (v.exited_at IS NULL OR v.exited_at >= l.month_end))::integer AS open_deals
    FROM latest l)
SELECT a.who, {team}
       sum(revenue_won), sum(deals_won), sum(deals_lost), sum(cycle_days_sum), sum(contacts), sum(quotes),
       sum(new_deals), sum(csat_sum), sum(csat_count), o.open_deals
FROM act a JOIN at_latest o USING (who)
GROUP BY a.who, {team} o.open_deals ORDER BY a.who
"""
_TEAM_PROBE = """(SELECT a.team_id FROM {activity} a WHERE a.owner_id = l.who AND a.month = l.month
            ORDER BY a.occurred_at DESC, a.deal_id DESC, a.seq DESC LIMIT 1) AS team_id,"""


def performance(conn: Connection, schema: Source, period: str, scope: str) -> dict:
    start, end = periods.parse(period)
    who = "owner_id" if scope == "rep" else "team_id"
    if isinstance(schema, AsOf):
        activity = qualified(schema, "deal_activity")
        sql = _AS_OF.format(who=who, activity=activity, visits=qualified(schema, "deal_stage_history"),
                            team_probe=_TEAM_PROBE.format(activity=activity) if scope == "rep" else "",
                            team="o.team_id," if scope == "rep" else "")
        rows = conn.exec_driver_sql(sql, {"start": start, "end": end}).all()
        return {"period": period, "scope": scope, "rows": [_row(scope, r) for r in rows]}
    table = qualified(schema, "rep_performance_month" if scope == "rep" else "team_performance_month")
    team = "(array_agg(team_id ORDER BY month DESC))[1]," if scope == "rep" else ""
    rows = conn.exec_driver_sql(_QUERY.format(who=who, team=team, table=table),
                                {"start": start, "end": end}).all()
    return {"period": period, "scope": scope, "rows": [_row(scope, r) for r in rows]}


def _row(scope: str, row) -> dict:
    key = {"owner_id": row[0], "team_id": row[1]} if scope == "rep" else {"team_id": row[0]}
    revenue, won, lost, cycle_sum, contacts, quotes, new, csat_sum, csat_n, open_deals = row[-10:]
    win_rate = ratio(won, won + lost)
    avg_size = revenue / won if won else None
    avg_cycle = ratio(cycle_sum, won, 2)
    velocity = (open_deals * win_rate * float(avg_size) / avg_cycle
                if win_rate is not None and avg_cycle else None)
    return {**key, "revenue_won": money(revenue), "deals_won": won, "deals_lost": lost,
            "win_rate": win_rate, "avg_deal_size": money(avg_size), "avg_cycle_days": avg_cycle,
            "contacts": contacts, "quotes": quotes, "new_deals": new,
            "csat_avg": ratio(csat_sum, csat_n, 2), "open_deals": open_deals,
            "sales_velocity": None if velocity is None else round(velocity, 2)}
