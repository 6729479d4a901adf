"""Performance report (SPEC §3/§4): per rep or team over a month, quarter or year, summed
from the monthly tables (ratios recomputed from the sums, never averaged)."""
from sqlalchemy import Connection

from events import periods
from projections.reports.common import Source, money, qualified, ratio

_QUERY = """
SELECT {who}, {team}
       sum(revenue_won), sum(deals_won), sum(deals_lost), sum(cycle_days_sum), sum(contacts),
       sum(quotes), sum(new_deals), sum(csat_sum), sum(csat_count),
       (array_agg(open_deals ORDER BY month DESC))[1]
FROM {table} WHERE month >= %(start)s AND month < %(end)s
GROUP BY {who} ORDER BY {who}
"""


def performance(conn: Connection, schema: Source, period: str, scope: str) -> dict:
    start, end = periods.parse(period)
    who = "owner_id" if scope == "rep" else "team_id"
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
