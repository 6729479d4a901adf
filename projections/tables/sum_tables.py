"""Sums and roll-ups the projection keeps by deltas (projections.sums): the funnel per day and
cohort, the month sums per rep and team, the cohort months, per-stage dwell and open spans."""
from sqlalchemy import ARRAY, Column, Date, Float, Index, Integer, Numeric, Table, Text
from sqlalchemy.dialects.postgresql import TSTZRANGE

from projections.tables.base import TIMESTAMPTZ, cycle_indexes, metadata

funnel_day_sums = Table(
    'funnel_day_sums', metadata,
    Column('day', Date, nullable=False, comment='UTC day (business time).'),
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('stage', Text, nullable=False, comment='Open stage.'),
    Column('owner_id', Text, comment='Owner when the stage was entered.'),
    Column('team_id', Text, comment='Team when the stage was entered.'),
    Column('entered', Integer, nullable=False, comment='Deals that entered the stage that day.'),
    Column('advanced', Integer, nullable=False, comment='Deals that left it forward (or won).'),
    Column('regressed', Integer, nullable=False, comment='Deals that left it backward.'),
    Column('lost', Integer, nullable=False, comment='Deals lost from it.'),
    Column('open_delta', Integer, nullable=False, comment='Change of the open count that day.'),
    Column('amount_delta', Numeric, nullable=False, comment='Change of the open amount that day.'),
    Column('deltas', Integer, nullable=False,
           comment='funnel_delta rows summed here (the row goes when none are left).'),
    # day first: removing a key's emptied row probes one day's keys, not the key's history
    Index('funnel_day_sums_key_idx', 'day', 'pipeline', 'stage', 'owner_id', 'team_id', unique=True,
          postgresql_nulls_not_distinct=True),
    Index('funnel_day_sums_pipeline_stage_owner_id_team_id_day_idx', 'pipeline', 'stage', 'owner_id', 'team_id', 'day'),
    comment='funnel_delta summed per day, stage and owner/team, kept by adding each change (funnel_daily adds the '
            'running end-of-day values).',
)


def _month_sums() -> list[Column]:
    return [
        Column('activities', Integer, nullable=False,
               comment='deal_activity rows in the month (the performance row shows when > 0).'),
        Column('revenue_won', Numeric, nullable=False,
               comment='Sum of signed amounts of deals finally won in the month.'),
        Column('deals_won', Integer, nullable=False, comment='Deals finally won in the month.'),
        Column('deals_lost', Integer, nullable=False, comment='Deals finally lost in the month.'),
        Column('cycle_days_sum', Numeric, nullable=False,
               comment='Sum of the cycle times of the deals won (each cycle_days as numeric, exact).'),
        Column('contacts', Integer, nullable=False, comment='Contacts logged in the month.'),
        Column('quotes', Integer, nullable=False, comment='Quotes issued in the month.'),
        Column('new_deals', Integer, nullable=False, comment='Deals created in the month.'),
        Column('csat_sum', Integer, nullable=False, comment='Sum of feedback scores.'),
        Column('csat_count', Integer, nullable=False, comment='Number of feedback scores.'),
        Column('open_delta', Integer, nullable=False,
               comment='Stage visits entered minus visits left in the month (their running sum is open_deals).'),
    ]

rep_month_sums = Table(
    'rep_month_sums', metadata,
    Column('month', Date, primary_key=True, comment='First day of the UTC month.'),
    Column('owner_id', Text, primary_key=True, comment='The rep.'),
    Column('team_id', Text, comment="The rep's team in their latest activity that month."),
    *_month_sums(),
    comment='Per rep and month: the additive sums behind rep_performance_month, kept by adding each change.',
)

team_month_sums = Table(
    'team_month_sums', metadata,
    Column('month', Date, primary_key=True, comment='First day of the UTC month.'),
    Column('team_id', Text, primary_key=True, comment='The team.'),
    *_month_sums(),
    comment='Per team and month: the additive sums behind team_performance_month, kept by adding each change.',
)


funnel_cohort = Table(
    'funnel_cohort', metadata,
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('day', Date, nullable=False, comment='UTC day the deals were created (business time).'),
    Column('owner_id', Text, comment='Current owner.'),
    Column('team_id', Text, comment='Current team.'),
    Column('segment', Text, comment='Customer segment.'),
    Column('furthest_stage_index', Integer, nullable=False,
           comment='Furthest open stage reached (number of open stages = won).'),
    Column('status', Text, nullable=False, comment='open, won or lost.'),
    Column('entered_stages', ARRAY(Text), nullable=False, comment='Open stages actually entered.'),
    Column('deals', Integer, nullable=False, comment='How many deals share all of the above.'),
    Index('funnel_cohort_key_idx', 'pipeline', 'day', 'owner_id', 'team_id', 'segment', 'furthest_stage_index',
          'status', 'entered_stages', unique=True, postgresql_nulls_not_distinct=True),
    comment='Deals per UTC creation day and shape (owner, team, segment, furthest stage, status, stages entered): the '
            'cohort funnel summed without scanning deals.',
)

# The cohort funnel summed per UTC creation month, so that whole months need no day or deal
# scan: a query adds funnel_cohort's whole days and deal_current's partial days at its edges.
funnel_cohort_month = Table(
    'funnel_cohort_month', metadata,
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('month', Date, nullable=False,
           comment='First day of the UTC month the deals were created in (business time).'),
    Column('owner_id', Text, comment='Current owner.'),
    Column('team_id', Text, comment='Current team.'),
    Column('segment', Text, comment='Customer segment.'),
    Column('furthest_stage_index', Integer, nullable=False,
           comment='Furthest open stage reached (number of open stages = won).'),
    Column('status', Text, nullable=False, comment='open, won or lost.'),
    Column('deals', Integer, nullable=False, comment='How many deals share all of the above.'),
    Index('funnel_cohort_month_pipeline_month_idx', 'pipeline', 'month'),
    Index('funnel_cohort_month_key_idx', 'pipeline', 'month', 'owner_id', 'team_id', 'segment',
          'furthest_stage_index', 'status', unique=True, postgresql_nulls_not_distinct=True),
    comment='Deals per UTC creation month, owner, team, segment, furthest stage and status: funnel_cohort summed by '
            'month (reached, won, lost of the cohort funnel).',
)

funnel_cohort_month_entered = Table(
    'funnel_cohort_month_entered', metadata,
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('month', Date, nullable=False,
           comment='First day of the UTC month the deals were created in (business time).'),
    Column('owner_id', Text, comment='Current owner.'),
    Column('team_id', Text, comment='Current team.'),
    Column('segment', Text, comment='Customer segment.'),
    Column('stage', Text, nullable=False, comment='Open stage.'),
    Column('deals', Integer, nullable=False, comment='How many of those deals actually entered the stage.'),
    Index('funnel_cohort_month_entered_pipeline_month_idx', 'pipeline', 'month'),
    Index('funnel_cohort_month_entered_key_idx', 'pipeline', 'month', 'owner_id', 'team_id', 'segment', 'stage',
          unique=True, postgresql_nulls_not_distinct=True),
    comment='Deals per UTC creation month, owner, team and segment that actually entered each open stage (entered of '
            'the cohort funnel; skipped = reached - entered).',
)

# The cycle-time report's per-stage dwell, one row per closed deal and stage it left, with the
# report's filters (owner and team at closing, segment, pipeline, outcome, closed_at) beside it.
cycle_time_stage = Table(
    'cycle_time_stage', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal (a row of cycle_time_deal).'),
    Column('stage', Text, primary_key=True, comment='An open stage the deal left at least once.'),
    Column('outcome', Text, nullable=False, comment='won or lost (final close).'),
    Column('pipeline', Text, comment='Pipeline key.'),
    Column('owner_id', Text, comment='Owner at closing.'),
    Column('team_id', Text, comment='Team at closing.'),
    Column('segment', Text, comment='Customer segment.'),
    Column('closed_at', TIMESTAMPTZ, nullable=False, comment='occurred_at of the final deal.signed / deal.lost.'),
    Column('dwell_days', Float, nullable=False,
           comment='Days spent in the stage, summed over its visits (deal_stage_history.dwell_seconds / 86400).'),
    *cycle_indexes('cycle_time_stage', 'stage', 'dwell_days'),
    comment='Closed deals: days spent in each open stage (summed over visits), with the cycle-time filters; the '
            'per-stage part of the cycle-time report.',
)

# The snapshot funnel at a business time: which deals were open in which stage, with which
# current amount, found by one range lookup instead of a visit scan and an amount lookup per deal.
funnel_open_span = Table(
    'funnel_open_span', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('stage', Text, primary_key=True, comment='The open stage it was in.'),
    Column('visit', Integer, primary_key=True, comment='Which visit of the stage (deal_stage_history.visit).'),
    Column('valid_from', TIMESTAMPTZ, primary_key=True, comment='Start of the span (business time).'),
    Column('during', TSTZRANGE, nullable=False,
           comment='[start, end) of the span: within the visit, while the deal had one current amount; end null '
                   'while open.'),
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('amount', Numeric,
           comment='Current amount during the span (latest quote, else expected amount; deal_amount_history).'),
    Column('owner_id', Text, comment='Current owner (deal_current).'),
    Column('team_id', Text, comment='Current team.'),
    Column('segment', Text, comment='Customer segment.'),
    Index('funnel_open_span_during_idx', 'during', postgresql_using='gist',
          postgresql_include=['pipeline', 'stage', 'amount', 'owner_id', 'team_id', 'segment']),
    comment='Open stage visits cut where the current amount changes: the deals open in each stage at any business '
            'time T, with their amounts then, are the spans whose `during` contains T (the snapshot funnel).',
)
