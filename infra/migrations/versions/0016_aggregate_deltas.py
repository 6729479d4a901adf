"""Aggregates kept by deltas (issue 10): the projection adds each change to per-day and
per-month sums (funnel_day_sums, rep_month_sums, team_month_sums; funnel_cohort gets a unique
key) instead of recomputing every touched key's history. funnel_daily, rep_performance_month and
team_performance_month become views over the sums with the same columns and comments (the
running end-of-day and open-deal values are window sums). The sums are computed here from the
existing deal-level rows.

Frozen (issue 24): the statements below are what this revision sent when it was built from
projections.tables and projections.aggregates (sums tables, indexes, views, the recompute);
a migration is history and no longer follows today's code.

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UPGRADE = (
    "DROP VIEW read_models.target_attainment",
    "DROP VIEW read_models.target_actuals",
    "DROP TABLE read_models.funnel_daily",
    "DROP TABLE read_models.rep_performance_month",
    "DROP TABLE read_models.team_performance_month",
    "DROP INDEX read_models.deal_activity_month_owner_id_idx",
    "DROP INDEX read_models.funnel_cohort_pipeline_day_idx",
    (
        "\n"
        "CREATE TABLE read_models.funnel_day_sums (\n"
        "\tday DATE NOT NULL, \n"
        "\tpipeline TEXT NOT NULL, \n"
        "\tstage TEXT NOT NULL, \n"
        "\towner_id TEXT, \n"
        "\tteam_id TEXT, \n"
        "\tentered INTEGER NOT NULL, \n"
        "\tadvanced INTEGER NOT NULL, \n"
        "\tregressed INTEGER NOT NULL, \n"
        "\tlost INTEGER NOT NULL, \n"
        "\topen_delta INTEGER NOT NULL, \n"
        "\tamount_delta NUMERIC NOT NULL, \n"
        "\tdeltas INTEGER NOT NULL\n"
        ")\n"
        "\n"
    ),
    (
        "CREATE INDEX funnel_day_sums_pipeline_stage_owner_id_team_id_day_idx ON "
        "read_models.funnel_day_sums (pipeline, stage, owner_id, team_id, day)"
    ),
    (
        "CREATE UNIQUE INDEX funnel_day_sums_key_idx ON read_models.funnel_day_sums (day, pipeline, stage, "
        "owner_id, team_id) NULLS NOT DISTINCT"
    ),
    (
        "COMMENT ON TABLE read_models.funnel_day_sums IS 'funnel_delta summed per day, stage and "
        "owner/team, kept by adding each change (funnel_daily adds the running end-of-day values).'"
    ),
    "COMMENT ON COLUMN read_models.funnel_day_sums.day IS 'UTC day (business time).'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.pipeline IS 'Pipeline key.'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.stage IS 'Open stage.'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.owner_id IS 'Owner when the stage was entered.'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.team_id IS 'Team when the stage was entered.'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.entered IS 'Deals that entered the stage that day.'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.advanced IS 'Deals that left it forward (or won).'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.regressed IS 'Deals that left it backward.'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.lost IS 'Deals lost from it.'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.open_delta IS 'Change of the open count that day.'",
    "COMMENT ON COLUMN read_models.funnel_day_sums.amount_delta IS 'Change of the open amount that day.'",
    (
        "COMMENT ON COLUMN read_models.funnel_day_sums.deltas IS 'funnel_delta rows summed here (the row "
        "goes when none are left).'"
    ),
    "GRANT SELECT ON read_models.funnel_day_sums TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.funnel_day_sums TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.rep_month_sums (\n"
        "\tmonth DATE NOT NULL, \n"
        "\towner_id TEXT NOT NULL, \n"
        "\tteam_id TEXT, \n"
        "\tactivities INTEGER NOT NULL, \n"
        "\trevenue_won NUMERIC NOT NULL, \n"
        "\tdeals_won INTEGER NOT NULL, \n"
        "\tdeals_lost INTEGER NOT NULL, \n"
        "\tcycle_days_sum NUMERIC NOT NULL, \n"
        "\tcontacts INTEGER NOT NULL, \n"
        "\tquotes INTEGER NOT NULL, \n"
        "\tnew_deals INTEGER NOT NULL, \n"
        "\tcsat_sum INTEGER NOT NULL, \n"
        "\tcsat_count INTEGER NOT NULL, \n"
        "\topen_delta INTEGER NOT NULL, \n"
        "\tPRIMARY KEY (month, owner_id)\n"
        ")\n"
        "\n"
    ),
    (
        "COMMENT ON TABLE read_models.rep_month_sums IS 'Per rep and month: the additive sums behind "
        "rep_performance_month, kept by adding each change.'"
    ),
    "COMMENT ON COLUMN read_models.rep_month_sums.month IS 'First day of the UTC month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums.owner_id IS 'The rep.'",
    (
        "COMMENT ON COLUMN read_models.rep_month_sums.team_id IS 'The rep''s team in their latest activity "
        "that month.'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_month_sums.activities IS 'deal_activity rows in the month (the "
        "performance row shows when > 0).'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_month_sums.revenue_won IS 'Sum of signed amounts of deals "
        "finally won in the month.'"
    ),
    "COMMENT ON COLUMN read_models.rep_month_sums.deals_won IS 'Deals finally won in the month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums.deals_lost IS 'Deals finally lost in the month.'",
    (
        "COMMENT ON COLUMN read_models.rep_month_sums.cycle_days_sum IS 'Sum of the cycle times of the "
        "deals won (each cycle_days as numeric, exact).'"
    ),
    "COMMENT ON COLUMN read_models.rep_month_sums.contacts IS 'Contacts logged in the month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums.quotes IS 'Quotes issued in the month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums.new_deals IS 'Deals created in the month.'",
    "COMMENT ON COLUMN read_models.rep_month_sums.csat_sum IS 'Sum of feedback scores.'",
    "COMMENT ON COLUMN read_models.rep_month_sums.csat_count IS 'Number of feedback scores.'",
    (
        "COMMENT ON COLUMN read_models.rep_month_sums.open_delta IS 'Stage visits entered minus visits "
        "left in the month (their running sum is open_deals).'"
    ),
    "GRANT SELECT ON read_models.rep_month_sums TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.rep_month_sums TO dealtrail_app",
    (
        "\n"
        "CREATE TABLE read_models.team_month_sums (\n"
        "\tmonth DATE NOT NULL, \n"
        "\tteam_id TEXT NOT NULL, \n"
        "\tactivities INTEGER NOT NULL, \n"
        "\trevenue_won NUMERIC NOT NULL, \n"
        "\tdeals_won INTEGER NOT NULL, \n"
        "\tdeals_lost INTEGER NOT NULL, \n"
        "\tcycle_days_sum NUMERIC NOT NULL, \n"
        "\tcontacts INTEGER NOT NULL, \n"
        "\tquotes INTEGER NOT NULL, \n"
        "\tnew_deals INTEGER NOT NULL, \n"
        "\tcsat_sum INTEGER NOT NULL, \n"
        "\tcsat_count INTEGER NOT NULL, \n"
        "\topen_delta INTEGER NOT NULL, \n"
        "\tPRIMARY KEY (month, team_id)\n"
        ")\n"
        "\n"
    ),
    (
        "COMMENT ON TABLE read_models.team_month_sums IS 'Per team and month: the additive sums behind "
        "team_performance_month, kept by adding each change.'"
    ),
    "COMMENT ON COLUMN read_models.team_month_sums.month IS 'First day of the UTC month.'",
    "COMMENT ON COLUMN read_models.team_month_sums.team_id IS 'The team.'",
    (
        "COMMENT ON COLUMN read_models.team_month_sums.activities IS 'deal_activity rows in the month (the "
        "performance row shows when > 0).'"
    ),
    (
        "COMMENT ON COLUMN read_models.team_month_sums.revenue_won IS 'Sum of signed amounts of deals "
        "finally won in the month.'"
    ),
    "COMMENT ON COLUMN read_models.team_month_sums.deals_won IS 'Deals finally won in the month.'",
    "COMMENT ON COLUMN read_models.team_month_sums.deals_lost IS 'Deals finally lost in the month.'",
    (
        "COMMENT ON COLUMN read_models.team_month_sums.cycle_days_sum IS 'Sum of the cycle times of the "
        "deals won (each cycle_days as numeric, exact).'"
    ),
    "COMMENT ON COLUMN read_models.team_month_sums.contacts IS 'Contacts logged in the month.'",
    "COMMENT ON COLUMN read_models.team_month_sums.quotes IS 'Quotes issued in the month.'",
    "COMMENT ON COLUMN read_models.team_month_sums.new_deals IS 'Deals created in the month.'",
    "COMMENT ON COLUMN read_models.team_month_sums.csat_sum IS 'Sum of feedback scores.'",
    "COMMENT ON COLUMN read_models.team_month_sums.csat_count IS 'Number of feedback scores.'",
    (
        "COMMENT ON COLUMN read_models.team_month_sums.open_delta IS 'Stage visits entered minus visits "
        "left in the month (their running sum is open_deals).'"
    ),
    "GRANT SELECT ON read_models.team_month_sums TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.team_month_sums TO dealtrail_app",
    (
        "CREATE INDEX deal_activity_owner_id_month_occurred_at_idx ON read_models.deal_activity (owner_id, "
        "month, occurred_at, deal_id, seq)"
    ),
    (
        "CREATE UNIQUE INDEX funnel_cohort_key_idx ON read_models.funnel_cohort (pipeline, day, owner_id, "
        "team_id, segment, furthest_stage_index, status, entered_stages) NULLS NOT DISTINCT"
    ),
    (
        "\n"
        "DELETE FROM read_models.funnel_day_sums;\n"
        "INSERT INTO read_models.funnel_day_sums (day, pipeline, stage, owner_id, team_id, entered, "
        "advanced, regressed, lost,\n"
        "    open_delta, amount_delta, deltas)\n"
        "SELECT day, pipeline, stage, owner_id, team_id, sum(entered), sum(advanced), sum(regressed), sum(lost),\n"
        "       sum(open_delta), sum(amount_delta), count(*)\n"
        "FROM read_models.funnel_delta GROUP BY day, pipeline, stage, owner_id, team_id;\n"
        "DELETE FROM read_models.funnel_cohort;\n"
        "INSERT INTO read_models.funnel_cohort (pipeline, day, owner_id, team_id, segment, "
        "furthest_stage_index, status,\n"
        "    entered_stages, deals)\n"
        "SELECT pipeline, (created_at AT TIME ZONE 'UTC')::date, owner_id, team_id, segment, "
        "furthest_stage_index, status,\n"
        "       entered_stages, count(*)\n"
        "FROM read_models.deal_current GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;\n"
        "\n"
        "DELETE FROM read_models.rep_month_sums;\n"
        "INSERT INTO read_models.rep_month_sums (month, owner_id, team_id, activities, revenue_won, "
        "deals_won, deals_lost,\n"
        "    cycle_days_sum, contacts, quotes, new_deals, csat_sum, csat_count, open_delta)\n"
        "\n"
        "SELECT month, owner_id, max(team_id) AS team_id, coalesce(sum(activities), 0)::integer AS activities,\n"
        "       coalesce(sum(revenue_won), 0) AS revenue_won, coalesce(sum(deals_won), 0)::integer AS deals_won,\n"
        "       coalesce(sum(deals_lost), 0)::integer AS deals_lost, "
        "trim_scale(coalesce(sum(cycle_days_sum), 0)) AS cycle_days_sum,\n"
        "       coalesce(sum(contacts), 0)::integer AS contacts, coalesce(sum(quotes), 0)::integer AS quotes,\n"
        "       coalesce(sum(new_deals), 0)::integer AS new_deals, coalesce(sum(csat_sum), 0)::integer AS "
        "csat_sum,\n"
        "       coalesce(sum(csat_count), 0)::integer AS csat_count, coalesce(sum(open_delta), 0)::integer "
        "AS open_delta\n"
        "FROM (\n"
        "    SELECT a.month, a.owner_id, (array_agg(a.team_id ORDER BY a.occurred_at DESC, a.deal_id DESC, "
        "a.seq DESC))[1] AS team_id, count(*) AS activities,\n"
        "           sum(a.amount) FILTER (WHERE a.kind = 'won') AS revenue_won,\n"
        "           count(*) FILTER (WHERE a.kind = 'won') AS deals_won,\n"
        "           count(*) FILTER (WHERE a.kind = 'lost') AS deals_lost,\n"
        "           sum(a.cycle_days::numeric) FILTER (WHERE a.kind = 'won') AS cycle_days_sum,\n"
        "           count(*) FILTER (WHERE a.kind = 'contact') AS contacts,\n"
        "           count(*) FILTER (WHERE a.kind = 'quote') AS quotes,\n"
        "           count(*) FILTER (WHERE a.kind = 'created') AS new_deals,\n"
        "           sum(a.score) FILTER (WHERE a.kind = 'feedback') AS csat_sum,\n"
        "           count(*) FILTER (WHERE a.kind = 'feedback') AS csat_count, 0 AS open_delta\n"
        "    FROM read_models.deal_activity a WHERE a.owner_id IS NOT NULL GROUP BY a.month, a.owner_id\n"
        "    UNION ALL\n"
        "    SELECT date_trunc('month', m.at AT TIME ZONE 'UTC')::date, m.owner_id, NULL, 0, 0, 0, 0, 0, "
        "0, 0, 0, 0, 0,\n"
        "           sum(m.delta)\n"
        "    FROM (SELECT v.owner_id, v.entered_at AS at, 1 AS delta FROM read_models.deal_stage_history v "
        "WHERE v.owner_id IS NOT NULL\n"
        "          UNION ALL\n"
        "          SELECT v.owner_id, v.exited_at, -1 FROM read_models.deal_stage_history v\n"
        "          WHERE v.owner_id IS NOT NULL AND v.exited_at IS NOT NULL) m\n"
        "    GROUP BY 1, 2) x\n"
        "GROUP BY month, owner_id\n"
        "HAVING coalesce(sum(activities), 0) <> 0 OR coalesce(sum(open_delta), 0) <> 0;\n"
        "\n"
        "DELETE FROM read_models.team_month_sums;\n"
        "INSERT INTO read_models.team_month_sums (month, team_id,  activities, revenue_won, deals_won, "
        "deals_lost,\n"
        "    cycle_days_sum, contacts, quotes, new_deals, csat_sum, csat_count, open_delta)\n"
        "\n"
        "SELECT month, team_id,  coalesce(sum(activities), 0)::integer AS activities,\n"
        "       coalesce(sum(revenue_won), 0) AS revenue_won, coalesce(sum(deals_won), 0)::integer AS deals_won,\n"
        "       coalesce(sum(deals_lost), 0)::integer AS deals_lost, "
        "trim_scale(coalesce(sum(cycle_days_sum), 0)) AS cycle_days_sum,\n"
        "       coalesce(sum(contacts), 0)::integer AS contacts, coalesce(sum(quotes), 0)::integer AS quotes,\n"
        "       coalesce(sum(new_deals), 0)::integer AS new_deals, coalesce(sum(csat_sum), 0)::integer AS "
        "csat_sum,\n"
        "       coalesce(sum(csat_count), 0)::integer AS csat_count, coalesce(sum(open_delta), 0)::integer "
        "AS open_delta\n"
        "FROM (\n"
        "    SELECT a.month, a.team_id,  count(*) AS activities,\n"
        "           sum(a.amount) FILTER (WHERE a.kind = 'won') AS revenue_won,\n"
        "           count(*) FILTER (WHERE a.kind = 'won') AS deals_won,\n"
        "           count(*) FILTER (WHERE a.kind = 'lost') AS deals_lost,\n"
        "           sum(a.cycle_days::numeric) FILTER (WHERE a.kind = 'won') AS cycle_days_sum,\n"
        "           count(*) FILTER (WHERE a.kind = 'contact') AS contacts,\n"
        "           count(*) FILTER (WHERE a.kind = 'quote') AS quotes,\n"
        "           count(*) FILTER (WHERE a.kind = 'created') AS new_deals,\n"
        "           sum(a.score) FILTER (WHERE a.kind = 'feedback') AS csat_sum,\n"
        "           count(*) FILTER (WHERE a.kind = 'feedback') AS csat_count, 0 AS open_delta\n"
        "    FROM read_models.deal_activity a WHERE a.team_id IS NOT NULL GROUP BY a.month, a.team_id\n"
        "    UNION ALL\n"
        "    SELECT date_trunc('month', m.at AT TIME ZONE 'UTC')::date, m.team_id,  0, 0, 0, 0, 0, 0, 0, 0, 0, 0,\n"
        "           sum(m.delta)\n"
        "    FROM (SELECT v.team_id, v.entered_at AS at, 1 AS delta FROM read_models.deal_stage_history v "
        "WHERE v.team_id IS NOT NULL\n"
        "          UNION ALL\n"
        "          SELECT v.team_id, v.exited_at, -1 FROM read_models.deal_stage_history v\n"
        "          WHERE v.team_id IS NOT NULL AND v.exited_at IS NOT NULL) m\n"
        "    GROUP BY 1, 2) x\n"
        "GROUP BY month, team_id\n"
        "HAVING coalesce(sum(activities), 0) <> 0 OR coalesce(sum(open_delta), 0) <> 0;\n"
    ),
    (
        "CREATE OR REPLACE VIEW read_models.funnel_daily AS \n"
        "SELECT day, pipeline, stage, owner_id, team_id, entered, advanced, regressed, lost,\n"
        "       (sum(open_delta) OVER w)::integer AS open_end_of_day, sum(amount_delta) OVER w AS "
        "open_amount_end_of_day\n"
        "FROM read_models.funnel_day_sums\n"
        "WINDOW w AS (PARTITION BY pipeline, stage, owner_id, team_id ORDER BY day)"
    ),
    (
        "COMMENT ON VIEW read_models.funnel_daily IS 'Funnel trend per day, stage and owner/team. A key "
        "has a row on each day its funnel changed; open_* are end-of-day values, so carry the last row "
        "forward on days without one.'"
    ),
    "COMMENT ON COLUMN read_models.funnel_daily.day IS 'UTC day (business time).'",
    "COMMENT ON COLUMN read_models.funnel_daily.pipeline IS 'Pipeline key.'",
    "COMMENT ON COLUMN read_models.funnel_daily.stage IS 'Open stage.'",
    "COMMENT ON COLUMN read_models.funnel_daily.owner_id IS 'Owner when the stage was entered.'",
    "COMMENT ON COLUMN read_models.funnel_daily.team_id IS 'Team when the stage was entered.'",
    "COMMENT ON COLUMN read_models.funnel_daily.entered IS 'Deals that entered the stage that day.'",
    "COMMENT ON COLUMN read_models.funnel_daily.advanced IS 'Deals that left it forward (or won).'",
    "COMMENT ON COLUMN read_models.funnel_daily.regressed IS 'Deals that left it backward.'",
    "COMMENT ON COLUMN read_models.funnel_daily.lost IS 'Deals lost from it.'",
    "COMMENT ON COLUMN read_models.funnel_daily.open_end_of_day IS 'Deals in the stage at the end of the day.'",
    "COMMENT ON COLUMN read_models.funnel_daily.open_amount_end_of_day IS 'Their summed current amount.'",
    "GRANT SELECT ON read_models.funnel_daily TO bi_reader",
    "GRANT SELECT ON read_models.funnel_daily TO dealtrail_app",
    (
        "CREATE OR REPLACE VIEW read_models.rep_performance_month AS \n"
        "SELECT month, owner_id, team_id, revenue_won, deals_won, deals_lost, win_rate, avg_deal_size, "
        "avg_cycle_days,\n"
        "       cycle_days_sum::float8 AS cycle_days_sum, contacts, quotes, new_deals, csat_avg, csat_sum, "
        "csat_count,\n"
        "       open_deals,\n"
        "       CASE WHEN win_rate IS NOT NULL AND avg_cycle_days > 0\n"
        "            THEN open_deals * win_rate * avg_deal_size / avg_cycle_days END AS sales_velocity\n"
        "FROM (SELECT s.*, deals_won::float8 / nullif(deals_won + deals_lost, 0) AS win_rate,\n"
        "             round(revenue_won / nullif(deals_won, 0), 2) AS avg_deal_size,\n"
        "             (cycle_days_sum / nullif(deals_won, 0))::float8 AS avg_cycle_days,\n"
        "             (csat_sum::numeric / nullif(csat_count, 0))::float8 AS csat_avg,\n"
        "             (sum(open_delta) OVER (PARTITION BY owner_id ORDER BY month))::integer AS open_deals\n"
        "      FROM read_models.rep_month_sums s) p\n"
        "WHERE activities > 0"
    ),
    (
        "COMMENT ON VIEW read_models.rep_performance_month IS 'Per rep and month. Wins, losses and revenue "
        "count for the owner at closing; contacts, quotes and feedback for the owner when they happened; "
        "new deals for the owner at creation.'"
    ),
    "COMMENT ON COLUMN read_models.rep_performance_month.month IS 'First day of the UTC month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.owner_id IS 'The rep.'",
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.team_id IS 'The rep''s team in their latest "
        "activity that month.'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.revenue_won IS 'Sum of signed amounts of "
        "deals finally won in the month.'"
    ),
    "COMMENT ON COLUMN read_models.rep_performance_month.deals_won IS 'Deals finally won in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.deals_lost IS 'Deals finally lost in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.win_rate IS 'won / (won + lost).'",
    "COMMENT ON COLUMN read_models.rep_performance_month.avg_deal_size IS 'revenue_won / deals_won.'",
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.avg_cycle_days IS 'Mean cycle time of the "
        "deals won in the month.'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.cycle_days_sum IS 'Sum of those cycle times "
        "(for averaging over periods).'"
    ),
    "COMMENT ON COLUMN read_models.rep_performance_month.contacts IS 'Contacts logged in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.quotes IS 'Quotes issued in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.new_deals IS 'Deals created in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.csat_avg IS 'Mean feedback score in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.csat_sum IS 'Sum of feedback scores.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.csat_count IS 'Number of feedback scores.'",
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.open_deals IS 'Deals open at the end of the "
        "month (owner when their stage was entered).'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.sales_velocity IS 'open_deals * win_rate * "
        "avg_deal_size / avg_cycle_days, per day.'"
    ),
    "GRANT SELECT ON read_models.rep_performance_month TO bi_reader",
    "GRANT SELECT ON read_models.rep_performance_month TO dealtrail_app",
    (
        "CREATE OR REPLACE VIEW read_models.team_performance_month AS \n"
        "SELECT month, team_id, revenue_won, deals_won, deals_lost, win_rate, avg_deal_size, avg_cycle_days,\n"
        "       cycle_days_sum::float8 AS cycle_days_sum, contacts, quotes, new_deals, csat_avg, csat_sum, "
        "csat_count,\n"
        "       open_deals,\n"
        "       CASE WHEN win_rate IS NOT NULL AND avg_cycle_days > 0\n"
        "            THEN open_deals * win_rate * avg_deal_size / avg_cycle_days END AS sales_velocity\n"
        "FROM (SELECT s.*, deals_won::float8 / nullif(deals_won + deals_lost, 0) AS win_rate,\n"
        "             round(revenue_won / nullif(deals_won, 0), 2) AS avg_deal_size,\n"
        "             (cycle_days_sum / nullif(deals_won, 0))::float8 AS avg_cycle_days,\n"
        "             (csat_sum::numeric / nullif(csat_count, 0))::float8 AS csat_avg,\n"
        "             (sum(open_delta) OVER (PARTITION BY team_id ORDER BY month))::integer AS open_deals\n"
        "      FROM read_models.team_month_sums s) p\n"
        "WHERE activities > 0"
    ),
    (
        "COMMENT ON VIEW read_models.team_performance_month IS 'Per team and month; same attribution rules "
        "as rep_performance_month.'"
    ),
    "COMMENT ON COLUMN read_models.team_performance_month.month IS 'First day of the UTC month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.team_id IS 'The team.'",
    (
        "COMMENT ON COLUMN read_models.team_performance_month.revenue_won IS 'Sum of signed amounts of "
        "deals finally won in the month.'"
    ),
    "COMMENT ON COLUMN read_models.team_performance_month.deals_won IS 'Deals finally won in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.deals_lost IS 'Deals finally lost in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.win_rate IS 'won / (won + lost).'",
    "COMMENT ON COLUMN read_models.team_performance_month.avg_deal_size IS 'revenue_won / deals_won.'",
    (
        "COMMENT ON COLUMN read_models.team_performance_month.avg_cycle_days IS 'Mean cycle time of the "
        "deals won in the month.'"
    ),
    (
        "COMMENT ON COLUMN read_models.team_performance_month.cycle_days_sum IS 'Sum of those cycle times "
        "(for averaging over periods).'"
    ),
    "COMMENT ON COLUMN read_models.team_performance_month.contacts IS 'Contacts logged in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.quotes IS 'Quotes issued in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.new_deals IS 'Deals created in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.csat_avg IS 'Mean feedback score in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.csat_sum IS 'Sum of feedback scores.'",
    "COMMENT ON COLUMN read_models.team_performance_month.csat_count IS 'Number of feedback scores.'",
    (
        "COMMENT ON COLUMN read_models.team_performance_month.open_deals IS 'Deals open at the end of the "
        "month (owner when their stage was entered).'"
    ),
    (
        "COMMENT ON COLUMN read_models.team_performance_month.sales_velocity IS 'open_deals * win_rate * "
        "avg_deal_size / avg_cycle_days, per day.'"
    ),
    "GRANT SELECT ON read_models.team_performance_month TO bi_reader",
    "GRANT SELECT ON read_models.team_performance_month TO dealtrail_app",
    (
        "CREATE OR REPLACE VIEW read_models.target_actuals AS \n"
        "WITH perf AS (\n"
        "  SELECT 'rep' AS scope, owner_id AS scope_id, month, revenue_won, deals_won, deals_lost, new_deals,\n"
        "         contacts, cycle_days_sum FROM read_models.rep_performance_month\n"
        "  UNION ALL\n"
        "  SELECT 'team', team_id, month, revenue_won, deals_won, deals_lost, new_deals, contacts, cycle_days_sum\n"
        "  FROM read_models.team_performance_month\n"
        "  UNION ALL\n"
        "  SELECT 'company', NULL, month, revenue_won, deals_won, deals_lost, new_deals, contacts, cycle_days_sum\n"
        "  FROM read_models.rep_performance_month\n"
        ")\n"
        "SELECT t.target_id, t.metric,\n"
        "       CASE t.metric\n"
        "         WHEN 'revenue' THEN coalesce(sum(p.revenue_won), 0)\n"
        "         WHEN 'deals_won' THEN coalesce(sum(p.deals_won), 0)\n"
        "         WHEN 'new_deals' THEN coalesce(sum(p.new_deals), 0)\n"
        "         WHEN 'contacts' THEN coalesce(sum(p.contacts), 0)\n"
        "         WHEN 'win_rate' THEN sum(p.deals_won)::numeric / nullif(sum(p.deals_won) + "
        "sum(p.deals_lost), 0)\n"
        "         WHEN 'avg_cycle_days' THEN (sum(p.cycle_days_sum) / nullif(sum(p.deals_won), 0))::numeric\n"
        "       END AS actual\n"
        "FROM read_models.targets t\n"
        "LEFT JOIN perf p ON p.scope = t.scope AND (t.scope = 'company' OR p.scope_id = t.scope_id)\n"
        " AND p.month >= t.period_start AND p.month < t.period_end\n"
        "GROUP BY t.target_id, t.metric"
    ),
    (
        "COMMENT ON VIEW read_models.target_actuals IS 'Actual value of each target''s metric over its "
        "period, from the monthly rep/team performance rows (company: all reps).'"
    ),
    "COMMENT ON COLUMN read_models.target_actuals.target_id IS 'The target.'",
    "COMMENT ON COLUMN read_models.target_actuals.metric IS 'Its metric.'",
    (
        "COMMENT ON COLUMN read_models.target_actuals.actual IS 'Actual value over the target''s period so "
        "far (null when undefined, e.g. a win rate without closed deals).'"
    ),
    "GRANT SELECT ON read_models.target_actuals TO bi_reader",
    "GRANT SELECT ON read_models.target_actuals TO dealtrail_app",
    (
        "CREATE OR REPLACE VIEW read_models.target_attainment AS \n"
        "WITH base AS (\n"
        "  SELECT t.*, a.actual, read_models.elapsed_fraction(t.period_start, t.period_end, now()) AS "
        "elapsed_fraction,\n"
        "         coalesce((SELECT s.value::numeric FROM read_models.loop_settings s\n"
        "                   WHERE s.name = 'deviation_threshold'), 0.2) AS threshold\n"
        "  FROM read_models.targets t JOIN read_models.target_actuals a USING (target_id)\n"
        "), paced AS (\n"
        "  SELECT b.*, read_models.target_pace(b.metric, b.value, b.elapsed_fraction) AS pace FROM base b\n"
        ")\n"
        "SELECT target_id, scope, scope_id, period, metric, value AS target, actual,\n"
        "       CASE WHEN metric = 'avg_cycle_days' THEN value / nullif(actual, 0) ELSE actual / "
        "nullif(value, 0) END AS attainment,\n"
        "       elapsed_fraction, pace, read_models.target_status(metric, actual, pace, threshold) AS status,\n"
        "       read_models.target_deviates(metric, actual, pace, threshold, elapsed_fraction) AS deviation\n"
        "FROM paced"
    ),
    (
        "COMMENT ON VIEW read_models.target_attainment IS 'Per target: actual, target, attainment "
        "(actual/target; target/actual for avg_cycle_days), elapsed fraction of the period, pace (target x "
        "elapsed fraction for cumulative metrics, else the target), status on_track / at_risk (within the "
        "deviation threshold of pace) / behind, and whether it deviates (behind after a quarter of the "
        "period: the watcher opens a review). Evaluated at query time with the functions target_pace, "
        "target_status, target_deviates — the one definition the API and the watcher use too.'"
    ),
    "COMMENT ON COLUMN read_models.target_attainment.target_id IS 'The target.'",
    "COMMENT ON COLUMN read_models.target_attainment.scope IS 'rep, team or company.'",
    "COMMENT ON COLUMN read_models.target_attainment.scope_id IS 'Who it concerns.'",
    "COMMENT ON COLUMN read_models.target_attainment.period IS '2026-11, 2026-Q4 or 2026.'",
    "COMMENT ON COLUMN read_models.target_attainment.metric IS 'The metric.'",
    "COMMENT ON COLUMN read_models.target_attainment.target IS 'The target value in force.'",
    "COMMENT ON COLUMN read_models.target_attainment.actual IS 'Actual value so far.'",
    (
        "COMMENT ON COLUMN read_models.target_attainment.attainment IS 'actual / target (target / actual "
        "for avg_cycle_days).'"
    ),
    "COMMENT ON COLUMN read_models.target_attainment.elapsed_fraction IS 'Share of the period elapsed (0 to 1).'",
    (
        "COMMENT ON COLUMN read_models.target_attainment.pace IS 'Where the metric should be by now: "
        "target x elapsed_fraction for cumulative metrics, else the target.'"
    ),
    (
        "COMMENT ON COLUMN read_models.target_attainment.status IS 'on_track, at_risk (within the "
        "deviation threshold of pace) or behind.'"
    ),
    (
        "COMMENT ON COLUMN read_models.target_attainment.deviation IS 'Behind after at least a quarter of "
        "the period: a deviation review is due.'"
    ),
    "GRANT SELECT ON read_models.target_attainment TO bi_reader",
    "GRANT SELECT ON read_models.target_attainment TO dealtrail_app",
)

DOWNGRADE = (
    "DROP VIEW read_models.target_attainment",
    "DROP VIEW read_models.target_actuals",
    "ALTER VIEW read_models.funnel_daily RENAME TO funnel_daily_0015",
    "CREATE TABLE read_models.funnel_daily AS SELECT * FROM read_models.funnel_daily_0015",
    "DROP VIEW read_models.funnel_daily_0015",
    "ALTER TABLE read_models.funnel_daily ALTER COLUMN day SET NOT NULL",
    "ALTER TABLE read_models.funnel_daily ALTER COLUMN pipeline SET NOT NULL",
    "ALTER TABLE read_models.funnel_daily ALTER COLUMN stage SET NOT NULL",
    "ALTER TABLE read_models.funnel_daily ALTER COLUMN entered SET NOT NULL",
    "ALTER TABLE read_models.funnel_daily ALTER COLUMN advanced SET NOT NULL",
    "ALTER TABLE read_models.funnel_daily ALTER COLUMN regressed SET NOT NULL",
    "ALTER TABLE read_models.funnel_daily ALTER COLUMN lost SET NOT NULL",
    "ALTER TABLE read_models.funnel_daily ALTER COLUMN open_end_of_day SET NOT NULL",
    "ALTER TABLE read_models.funnel_daily ALTER COLUMN open_amount_end_of_day SET NOT NULL",
    (
        "COMMENT ON TABLE read_models.funnel_daily IS 'Funnel trend per day, stage and owner/team. A key "
        "has a row on each day its funnel changed; open_* are end-of-day values, so carry the last row "
        "forward on days without one.'"
    ),
    "COMMENT ON COLUMN read_models.funnel_daily.day IS 'UTC day (business time).'",
    "COMMENT ON COLUMN read_models.funnel_daily.pipeline IS 'Pipeline key.'",
    "COMMENT ON COLUMN read_models.funnel_daily.stage IS 'Open stage.'",
    "COMMENT ON COLUMN read_models.funnel_daily.owner_id IS 'Owner when the stage was entered.'",
    "COMMENT ON COLUMN read_models.funnel_daily.team_id IS 'Team when the stage was entered.'",
    "COMMENT ON COLUMN read_models.funnel_daily.entered IS 'Deals that entered the stage that day.'",
    "COMMENT ON COLUMN read_models.funnel_daily.advanced IS 'Deals that left it forward (or won).'",
    "COMMENT ON COLUMN read_models.funnel_daily.regressed IS 'Deals that left it backward.'",
    "COMMENT ON COLUMN read_models.funnel_daily.lost IS 'Deals lost from it.'",
    "COMMENT ON COLUMN read_models.funnel_daily.open_end_of_day IS 'Deals in the stage at the end of the day.'",
    "COMMENT ON COLUMN read_models.funnel_daily.open_amount_end_of_day IS 'Their summed current amount.'",
    "GRANT SELECT ON read_models.funnel_daily TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.funnel_daily TO dealtrail_app",
    "ALTER VIEW read_models.rep_performance_month RENAME TO rep_performance_month_0015",
    "CREATE TABLE read_models.rep_performance_month AS SELECT * FROM read_models.rep_performance_month_0015",
    "DROP VIEW read_models.rep_performance_month_0015",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN month SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN owner_id SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN revenue_won SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN deals_won SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN deals_lost SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN cycle_days_sum SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN contacts SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN quotes SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN new_deals SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN csat_sum SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN csat_count SET NOT NULL",
    "ALTER TABLE read_models.rep_performance_month ALTER COLUMN open_deals SET NOT NULL",
    (
        "COMMENT ON TABLE read_models.rep_performance_month IS 'Per rep and month. Wins, losses and "
        "revenue count for the owner at closing; contacts, quotes and feedback for the owner when they "
        "happened; new deals for the owner at creation.'"
    ),
    "COMMENT ON COLUMN read_models.rep_performance_month.month IS 'First day of the UTC month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.owner_id IS 'The rep.'",
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.team_id IS 'The rep''s team in their latest "
        "activity that month.'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.revenue_won IS 'Sum of signed amounts of "
        "deals finally won in the month.'"
    ),
    "COMMENT ON COLUMN read_models.rep_performance_month.deals_won IS 'Deals finally won in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.deals_lost IS 'Deals finally lost in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.win_rate IS 'won / (won + lost).'",
    "COMMENT ON COLUMN read_models.rep_performance_month.avg_deal_size IS 'revenue_won / deals_won.'",
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.avg_cycle_days IS 'Mean cycle time of the "
        "deals won in the month.'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.cycle_days_sum IS 'Sum of those cycle times "
        "(for averaging over periods).'"
    ),
    "COMMENT ON COLUMN read_models.rep_performance_month.contacts IS 'Contacts logged in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.quotes IS 'Quotes issued in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.new_deals IS 'Deals created in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.csat_avg IS 'Mean feedback score in the month.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.csat_sum IS 'Sum of feedback scores.'",
    "COMMENT ON COLUMN read_models.rep_performance_month.csat_count IS 'Number of feedback scores.'",
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.open_deals IS 'Deals open at the end of the "
        "month (owner when their stage was entered).'"
    ),
    (
        "COMMENT ON COLUMN read_models.rep_performance_month.sales_velocity IS 'open_deals * win_rate * "
        "avg_deal_size / avg_cycle_days, per day.'"
    ),
    "GRANT SELECT ON read_models.rep_performance_month TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.rep_performance_month TO dealtrail_app",
    "ALTER VIEW read_models.team_performance_month RENAME TO team_performance_month_0015",
    "CREATE TABLE read_models.team_performance_month AS SELECT * FROM read_models.team_performance_month_0015",
    "DROP VIEW read_models.team_performance_month_0015",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN month SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN team_id SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN revenue_won SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN deals_won SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN deals_lost SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN cycle_days_sum SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN contacts SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN quotes SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN new_deals SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN csat_sum SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN csat_count SET NOT NULL",
    "ALTER TABLE read_models.team_performance_month ALTER COLUMN open_deals SET NOT NULL",
    (
        "COMMENT ON TABLE read_models.team_performance_month IS 'Per team and month; same attribution "
        "rules as rep_performance_month.'"
    ),
    "COMMENT ON COLUMN read_models.team_performance_month.month IS 'First day of the UTC month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.team_id IS 'The team.'",
    (
        "COMMENT ON COLUMN read_models.team_performance_month.revenue_won IS 'Sum of signed amounts of "
        "deals finally won in the month.'"
    ),
    "COMMENT ON COLUMN read_models.team_performance_month.deals_won IS 'Deals finally won in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.deals_lost IS 'Deals finally lost in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.win_rate IS 'won / (won + lost).'",
    "COMMENT ON COLUMN read_models.team_performance_month.avg_deal_size IS 'revenue_won / deals_won.'",
    (
        "COMMENT ON COLUMN read_models.team_performance_month.avg_cycle_days IS 'Mean cycle time of the "
        "deals won in the month.'"
    ),
    (
        "COMMENT ON COLUMN read_models.team_performance_month.cycle_days_sum IS 'Sum of those cycle times "
        "(for averaging over periods).'"
    ),
    "COMMENT ON COLUMN read_models.team_performance_month.contacts IS 'Contacts logged in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.quotes IS 'Quotes issued in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.new_deals IS 'Deals created in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.csat_avg IS 'Mean feedback score in the month.'",
    "COMMENT ON COLUMN read_models.team_performance_month.csat_sum IS 'Sum of feedback scores.'",
    "COMMENT ON COLUMN read_models.team_performance_month.csat_count IS 'Number of feedback scores.'",
    (
        "COMMENT ON COLUMN read_models.team_performance_month.open_deals IS 'Deals open at the end of the "
        "month (owner when their stage was entered).'"
    ),
    (
        "COMMENT ON COLUMN read_models.team_performance_month.sales_velocity IS 'open_deals * win_rate * "
        "avg_deal_size / avg_cycle_days, per day.'"
    ),
    "GRANT SELECT ON read_models.team_performance_month TO bi_reader",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON read_models.team_performance_month TO dealtrail_app",
    "DROP TABLE read_models.funnel_day_sums",
    "DROP TABLE read_models.rep_month_sums",
    "DROP TABLE read_models.team_month_sums",
    "DROP INDEX read_models.deal_activity_owner_id_month_occurred_at_idx",
    "DROP INDEX read_models.funnel_cohort_key_idx",
    """
ALTER TABLE read_models.rep_performance_month ADD PRIMARY KEY (month, owner_id);
ALTER TABLE read_models.team_performance_month ADD PRIMARY KEY (month, team_id);
CREATE INDEX funnel_daily_pipeline_stage_owner_id_team_id_day_idx
    ON read_models.funnel_daily (pipeline, stage, owner_id, team_id, day);
CREATE INDEX funnel_daily_day_idx ON read_models.funnel_daily (day);
CREATE INDEX rep_performance_month_team_id_month_idx ON read_models.rep_performance_month (team_id, month);
CREATE INDEX funnel_cohort_pipeline_day_idx ON read_models.funnel_cohort (pipeline, day);
CREATE INDEX deal_activity_month_owner_id_idx ON read_models.deal_activity (month, owner_id);
""",
    (
        "CREATE OR REPLACE VIEW read_models.target_actuals AS \n"
        "WITH perf AS (\n"
        "  SELECT 'rep' AS scope, owner_id AS scope_id, month, revenue_won, deals_won, deals_lost, new_deals,\n"
        "         contacts, cycle_days_sum FROM read_models.rep_performance_month\n"
        "  UNION ALL\n"
        "  SELECT 'team', team_id, month, revenue_won, deals_won, deals_lost, new_deals, contacts, cycle_days_sum\n"
        "  FROM read_models.team_performance_month\n"
        "  UNION ALL\n"
        "  SELECT 'company', NULL, month, revenue_won, deals_won, deals_lost, new_deals, contacts, cycle_days_sum\n"
        "  FROM read_models.rep_performance_month\n"
        ")\n"
        "SELECT t.target_id, t.metric,\n"
        "       CASE t.metric\n"
        "         WHEN 'revenue' THEN coalesce(sum(p.revenue_won), 0)\n"
        "         WHEN 'deals_won' THEN coalesce(sum(p.deals_won), 0)\n"
        "         WHEN 'new_deals' THEN coalesce(sum(p.new_deals), 0)\n"
        "         WHEN 'contacts' THEN coalesce(sum(p.contacts), 0)\n"
        "         WHEN 'win_rate' THEN sum(p.deals_won)::numeric / nullif(sum(p.deals_won) + "
        "sum(p.deals_lost), 0)\n"
        "         WHEN 'avg_cycle_days' THEN (sum(p.cycle_days_sum) / nullif(sum(p.deals_won), 0))::numeric\n"
        "       END AS actual\n"
        "FROM read_models.targets t\n"
        "LEFT JOIN perf p ON p.scope = t.scope AND (t.scope = 'company' OR p.scope_id = t.scope_id)\n"
        " AND p.month >= t.period_start AND p.month < t.period_end\n"
        "GROUP BY t.target_id, t.metric"
    ),
    (
        "COMMENT ON VIEW read_models.target_actuals IS 'Actual value of each target''s metric over its "
        "period, from the monthly rep/team performance rows (company: all reps).'"
    ),
    "COMMENT ON COLUMN read_models.target_actuals.target_id IS 'The target.'",
    "COMMENT ON COLUMN read_models.target_actuals.metric IS 'Its metric.'",
    (
        "COMMENT ON COLUMN read_models.target_actuals.actual IS 'Actual value over the target''s period so "
        "far (null when undefined, e.g. a win rate without closed deals).'"
    ),
    "GRANT SELECT ON read_models.target_actuals TO bi_reader",
    "GRANT SELECT ON read_models.target_actuals TO dealtrail_app",
    (
        "CREATE OR REPLACE VIEW read_models.target_attainment AS \n"
        "WITH base AS (\n"
        "  SELECT t.*, a.actual, read_models.elapsed_fraction(t.period_start, t.period_end, now()) AS "
        "elapsed_fraction,\n"
        "         coalesce((SELECT s.value::numeric FROM read_models.loop_settings s\n"
        "                   WHERE s.name = 'deviation_threshold'), 0.2) AS threshold\n"
        "  FROM read_models.targets t JOIN read_models.target_actuals a USING (target_id)\n"
        "), paced AS (\n"
        "  SELECT b.*, read_models.target_pace(b.metric, b.value, b.elapsed_fraction) AS pace FROM base b\n"
        ")\n"
        "SELECT target_id, scope, scope_id, period, metric, value AS target, actual,\n"
        "       CASE WHEN metric = 'avg_cycle_days' THEN value / nullif(actual, 0) ELSE actual / "
        "nullif(value, 0) END AS attainment,\n"
        "       elapsed_fraction, pace, read_models.target_status(metric, actual, pace, threshold) AS status,\n"
        "       read_models.target_deviates(metric, actual, pace, threshold, elapsed_fraction) AS deviation\n"
        "FROM paced"
    ),
    (
        "COMMENT ON VIEW read_models.target_attainment IS 'Per target: actual, target, attainment "
        "(actual/target; target/actual for avg_cycle_days), elapsed fraction of the period, pace (target x "
        "elapsed fraction for cumulative metrics, else the target), status on_track / at_risk (within the "
        "deviation threshold of pace) / behind, and whether it deviates (behind after a quarter of the "
        "period: the watcher opens a review). Evaluated at query time with the functions target_pace, "
        "target_status, target_deviates — the one definition the API and the watcher use too.'"
    ),
    "COMMENT ON COLUMN read_models.target_attainment.target_id IS 'The target.'",
    "COMMENT ON COLUMN read_models.target_attainment.scope IS 'rep, team or company.'",
    "COMMENT ON COLUMN read_models.target_attainment.scope_id IS 'Who it concerns.'",
    "COMMENT ON COLUMN read_models.target_attainment.period IS '2026-11, 2026-Q4 or 2026.'",
    "COMMENT ON COLUMN read_models.target_attainment.metric IS 'The metric.'",
    "COMMENT ON COLUMN read_models.target_attainment.target IS 'The target value in force.'",
    "COMMENT ON COLUMN read_models.target_attainment.actual IS 'Actual value so far.'",
    (
        "COMMENT ON COLUMN read_models.target_attainment.attainment IS 'actual / target (target / actual "
        "for avg_cycle_days).'"
    ),
    "COMMENT ON COLUMN read_models.target_attainment.elapsed_fraction IS 'Share of the period elapsed (0 to 1).'",
    (
        "COMMENT ON COLUMN read_models.target_attainment.pace IS 'Where the metric should be by now: "
        "target x elapsed_fraction for cumulative metrics, else the target.'"
    ),
    (
        "COMMENT ON COLUMN read_models.target_attainment.status IS 'on_track, at_risk (within the "
        "deviation threshold of pace) or behind.'"
    ),
    (
        "COMMENT ON COLUMN read_models.target_attainment.deviation IS 'Behind after at least a quarter of "
        "the period: a deviation review is due.'"
    ),
    "GRANT SELECT ON read_models.target_attainment TO bi_reader",
    "GRANT SELECT ON read_models.target_attainment TO dealtrail_app",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
