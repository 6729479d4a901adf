"""What the aggregates must equal: the SQL that computed funnel_daily, funnel_cohort and the
performance tables from the deal-level rows before they were kept by deltas, and a recompute."""
from projections.sums import deltas as aggregates
from projections.tables.groups import AGGREGATE_TABLES, AGGREGATE_VIEWS

DEFINITIONS = {
    "funnel_daily": """
SELECT day, pipeline, stage, owner_id, team_id, entered, advanced, regressed, lost,
       sum(open_delta) OVER w, sum(amount_delta) OVER w
FROM (SELECT day, pipeline, stage, owner_id, team_id, sum(entered) AS entered, sum(advanced) AS advanced,
             sum(regressed) AS regressed, sum(lost) AS lost, sum(open_delta) AS open_delta,
             sum(amount_delta) AS amount_delta
      FROM read_models.funnel_delta GROUP BY day, pipeline, stage, owner_id, team_id) g
WINDOW w AS (PARTITION BY pipeline, stage, owner_id, team_id ORDER BY day)""",
    "funnel_cohort": """
SELECT pipeline, (created_at AT TIME ZONE 'UTC')::date, owner_id, team_id, segment, furthest_stage_index, status,
       entered_stages, count(*)
FROM read_models.deal_current GROUP BY 1, 2, 3, 4, 5, 6, 7, 8""",
}
_PERFORMANCE = """
SELECT m.*, coalesce(o.open_deals, 0),
       CASE WHEN m.win_rate IS NOT NULL AND m.avg_cycle_days > 0
            THEN coalesce(o.open_deals, 0) * m.win_rate * m.avg_deal_size / m.avg_cycle_days END
FROM (
    SELECT a.month, a.{who}, {team}
           coalesce(sum(a.amount) FILTER (WHERE a.kind = 'won'), 0),
           count(*) FILTER (WHERE a.kind = 'won'), count(*) FILTER (WHERE a.kind = 'lost'),
           count(*) FILTER (WHERE a.kind = 'won')::float8
               / nullif(count(*) FILTER (WHERE a.kind IN ('won', 'lost')), 0) AS win_rate,
           round(sum(a.amount) FILTER (WHERE a.kind = 'won') / nullif(count(*) FILTER (WHERE a.kind = 'won'), 0), 2)
               AS avg_deal_size,
           (avg(a.cycle_days::numeric) FILTER (WHERE a.kind = 'won'))::float8 AS avg_cycle_days,
           coalesce(sum(a.cycle_days::numeric) FILTER (WHERE a.kind = 'won'), 0)::float8,
           count(*) FILTER (WHERE a.kind = 'contact'), count(*) FILTER (WHERE a.kind = 'quote'),
           count(*) FILTER (WHERE a.kind = 'created'),
           (avg(a.score) FILTER (WHERE a.kind = 'feedback'))::float8,
           coalesce(sum(a.score) FILTER (WHERE a.kind = 'feedback'), 0), count(*) FILTER (WHERE a.kind = 'feedback')
    FROM read_models.deal_activity a WHERE a.{who} IS NOT NULL GROUP BY a.month, a.{who}) m
LEFT JOIN LATERAL (
    SELECT count(DISTINCT v.deal_id) AS open_deals FROM read_models.deal_stage_history v
    WHERE v.{who} = m.{who} AND v.entered_at < m.month + interval '1 month'
      AND (v.exited_at IS NULL OR v.exited_at >= m.month + interval '1 month')) o ON true"""
DEFINITIONS["rep_performance_month"] = _PERFORMANCE.format(
    who="owner_id", team="(array_agg(a.team_id ORDER BY a.occurred_at DESC, a.deal_id DESC, a.seq DESC))[1],")
DEFINITIONS["team_performance_month"] = _PERFORMANCE.format(who="team_id", team="")


def rows(conn, sql: str) -> list[tuple]:
    return sorted(map(tuple, conn.exec_driver_sql(sql)), key=repr)


def _aggregates(conn) -> dict[str, list[tuple]]:
    return {t: rows(conn, f"SELECT * FROM read_models.{t}") for t in (*AGGREGATE_TABLES, *AGGREGATE_VIEWS)}


def check(engine) -> None:
    """The aggregates equal their definitions and a recompute from scratch (rolled back)."""
    with engine.connect() as conn, conn.begin() as tx:
        kept = _aggregates(conn)
        for table, sql in DEFINITIONS.items():
            assert kept[table] == rows(conn, sql), table
        aggregates.recompute(conn, "read_models")
        assert _aggregates(conn) == kept
        tx.rollback()
