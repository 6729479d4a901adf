"""Every read-model table and view, declared once: its columns, types, keys, indexes and the
comments BI tools show. Migrations are checked against it (tests/integration/test_tables.py),
rebuilds create their fresh tables from it, and COPY takes its column order from it."""
from dataclasses import dataclass

from sqlalchemy import (ARRAY, TIMESTAMP, UUID, BigInteger, Boolean, Column, Date, Float, Index, Integer,
                        MetaData, Numeric, Table, Text, text)
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE

SCHEMA = "read_models"
metadata = MetaData(schema=SCHEMA)
TIMESTAMPTZ = TIMESTAMP(timezone=True)

def cycle_indexes(table: str, *ordered: str) -> list[Index]:
    """The cycle-time report's indexes: per filter (none, owner_id, team_id, segment), the rows of
    an outcome in the order percentile_cont sorts them, every other filter column included, so
    a report reads one index in order (no table visit, an already sorted input)."""
    columns = ('closed_at', 'owner_id', 'team_id', 'segment', 'pipeline')
    indexes = [Index(f'{table}_outcome_pipeline_{"_".join(ordered)}_idx', 'outcome', 'pipeline', *ordered,
                     postgresql_include=[c for c in columns if c != 'pipeline'])]
    for key in ('owner_id', 'team_id', 'segment'):
        indexes.append(Index(f'{table}_{key}_outcome_{"_".join(ordered)}_idx', key, 'outcome', *ordered,
                             postgresql_include=[c for c in columns if c != key]))
    return indexes


def recorded_from() -> Column:
    """Bitemporal rows: since when (recorded time) the row has been what it is. Its earlier
    versions are in the table's `_past` twin (see PAST_TABLES)."""
    return Column('recorded_from', TIMESTAMPTZ, nullable=False, server_default=text("now()"),
                  comment="Since when (recorded time: the clock `as_of` asks about) this row has been as it is; "
                          "its earlier versions are in the table's _past twin (complete from versions_since).")


deal_current = Table(
    'deal_current', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal (stream) id.'),
    Column('title', Text, comment='Deal title.'),
    Column('customer_id', Text, comment='Customer id.'),
    Column('customer_name', Text, comment='Customer name.'),
    Column('segment', Text, comment='Customer segment.'),
    Column('region', Text, comment='Customer region.'),
    Column('owner_id', Text, comment='Current owner (rep).'),
    Column('team_id', Text, comment="Current owner's team."),
    Column('created_owner_id', Text, comment='Owner when the deal was created (new-deal attribution).'),
    Column('created_team_id', Text, comment='Team when the deal was created.'),
    Column('source_channel', Text, comment='Where the deal came from.'),
    Column('pipeline', Text, comment='Pipeline key.'),
    Column('stage', Text, comment='Current stage (an open stage, or won/lost).'),
    Column('status', Text, comment='open, won or lost.'),
    Column('created_at', TIMESTAMPTZ, comment='occurred_at of deal.created.'),
    Column('stage_entered_at', TIMESTAMPTZ, comment='When the current stage was entered.'),
    Column('last_activity_at', TIMESTAMPTZ, comment='Latest of stage entry, contact, quote: the stall clock.'),
    Column('expected_amount', Numeric, comment='Expected amount from deal.created.'),
    Column('latest_quote_amount', Numeric, comment='Amount of the latest quote (business time).'),
    Column('signed_amount', Numeric, comment='Signed amount (won deals).'),
    Column('current_amount', Numeric, comment='Latest quote amount, else expected amount.'),
    Column('currency', Text, comment='ISO-4217 currency (the reporting currency).'),
    Column('closed_at', TIMESTAMPTZ, comment='When the deal was (finally) won or lost; null when open.'),
    Column('lost_reason', Text, comment='Reason of the final loss.'),
    Column('contacts_count', Integer, comment='Number of contacts logged.'),
    Column('last_contact_at', TIMESTAMPTZ, comment='Latest contact.'),
    Column('furthest_stage_index', Integer, comment='0-based index of the furthest open stage reached; won = number of open stages.'),
    Column('entered_stages', ARRAY(Text), comment='Open stages actually entered at least once.'),
    Column('version', Integer, comment='Stream version of the latest event applied.'),
    Column('last_position', BigInteger, comment='Global position of the latest event applied.'),
    Column('expected_close_date', Date, comment='Expected close date (deal.created, then the latest deal.updated); the forecast places open deals in periods by it.'),
    Column('fields', JSONB, nullable=False, comment='Custom fields (deal.updated): at most 50 keys, values text, number or boolean.'),
    recorded_from(),
    Index('deal_current_status_stage_idx', 'status', 'stage'),
    Index('deal_current_owner_id_idx', 'owner_id'),
    Index('deal_current_team_id_idx', 'team_id'),
    Index('deal_current_segment_idx', 'segment'),
    Index('deal_current_pipeline_created_at_idx', 'pipeline', 'created_at'),
    Index('deal_current_closed_at_idx', 'closed_at'),
    Index('deal_current_expected_close_date_idx', 'expected_close_date'),
    # the deal list's sorts (keyset pages start in the index) and customer filter
    Index('deal_current_created_at_deal_id_idx', 'created_at', 'deal_id'),
    Index('deal_current_stage_entered_at_deal_id_idx', 'stage_entered_at', 'deal_id'),
    Index('deal_current_last_activity_at_deal_id_idx', 'last_activity_at', 'deal_id'),
    Index('deal_current_current_amount_deal_id_idx', 'current_amount', 'deal_id'),
    Index('deal_current_current_amount_desc_idx', text('current_amount DESC NULLS LAST'), text('deal_id DESC')),
    Index('deal_current_customer_id_idx', 'customer_id'),
    # the snapshot funnel now: open deals per stage, read from the index alone
    Index('deal_current_open_pipeline_stage_idx', 'pipeline', 'stage', postgresql_where=text("status = 'open'"),
          postgresql_include=['current_amount', 'owner_id', 'team_id', 'segment']),
    comment='One row per deal: its state folded from its events in business-time order (occurred_at), voided events excluded.',
)

deal_stage_history = Table(
    'deal_stage_history', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('stage', Text, primary_key=True, comment='The open stage visited.'),
    Column('visit', Integer, primary_key=True, comment='1, 2, ... when the deal re-enters the stage.'),
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('entered_at', TIMESTAMPTZ, nullable=False, comment='When the stage was entered.'),
    Column('exited_at', TIMESTAMPTZ, comment='When it was left; null while the deal is still there.'),
    Column('dwell_seconds', Float, comment='exited_at - entered_at in seconds; null while open.'),
    Column('exit_to', Text, comment='Next stage, or won/lost.'),
    Column('entered_by', Text, nullable=False, comment='create, move (next stage), skip (forward past stages), regression (backward), reopen.'),
    Column('owner_id', Text, comment='Owner when the stage was entered.'),
    Column('team_id', Text, comment='Team when the stage was entered.'),
    recorded_from(),
    Index('deal_stage_history_stage_entered_at_idx', 'stage', 'entered_at'),
    Index('deal_stage_history_owner_id_entered_at_idx', 'owner_id', 'entered_at'),
    Index('deal_stage_history_team_id_entered_at_idx', 'team_id', 'entered_at'),
    comment='Every visit of a deal to an open stage, in business time.',
)

deal_amount_history = Table(
    'deal_amount_history', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('valid_from', TIMESTAMPTZ, nullable=False, comment='From when this amount applies.'),
    Column('seq', Integer, primary_key=True, comment='Order within the deal.'),
    Column('amount', Numeric, comment='The amount.'),
    recorded_from(),
    Index('deal_amount_history_deal_id_valid_from_idx', 'deal_id', 'valid_from'),
    comment="The deal's current amount (latest quote, else expected) over business time.",
)

cycle_time_deal = Table(
    'cycle_time_deal', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('outcome', Text, nullable=False, comment='won or lost.'),
    Column('owner_id', Text, comment='Owner at closing.'),
    Column('team_id', Text, comment='Team at closing.'),
    Column('segment', Text, comment='Customer segment.'),
    Column('pipeline', Text, comment='Pipeline key.'),
    Column('created_at', TIMESTAMPTZ, nullable=False, comment='occurred_at of deal.created.'),
    Column('closed_at', TIMESTAMPTZ, nullable=False, comment='occurred_at of the final deal.signed / deal.lost.'),
    Column('cycle_days', Float, nullable=False, comment='closed_at - created_at in days.'),
    recorded_from(),
    Index('cycle_time_deal_outcome_closed_at_idx', 'outcome', 'closed_at'),
    *cycle_indexes('cycle_time_deal', 'cycle_days'),
    comment='Closed deals: cycle time from creation to the final close.',
)

deal_activity = Table(
    'deal_activity', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('seq', Integer, primary_key=True, comment="The stream_version of the event behind the row; 0 for the deal's final close (won/lost)."),
    Column('kind', Text, nullable=False, comment='created, contact, quote, feedback, won, lost.'),
    Column('occurred_at', TIMESTAMPTZ, nullable=False, comment='Business time.'),
    Column('month', Date, nullable=False, comment='First day of the UTC month of occurred_at.'),
    Column('owner_id', Text, comment='Owner at that moment.'),
    Column('team_id', Text, comment='Team at that moment.'),
    Column('amount', Numeric, comment='Quote amount or signed amount.'),
    Column('cycle_days', Float, comment='Cycle time for won/lost.'),
    Column('score', Integer, comment='Satisfaction score for feedback.'),
    recorded_from(),
    # a rep's month, latest activity last (rep_month_sums.team_id probes it)
    Index('deal_activity_owner_id_month_occurred_at_idx', 'owner_id', 'month', 'occurred_at', 'deal_id', 'seq'),
    Index('deal_activity_month_team_id_idx', 'month', 'team_id'),
    comment='Per-deal facts that performance aggregates: creation, contacts, quotes, feedback and the final close, each attributed to the owner at that moment.',
)

funnel_delta = Table(
    'funnel_delta', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('seq', Integer, primary_key=True, comment='Order within the deal.'),
    Column('day', Date, nullable=False, comment='UTC day.'),
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('stage', Text, nullable=False, comment='Open stage.'),
    Column('owner_id', Text, comment='Owner when the stage was entered.'),
    Column('team_id', Text, comment='Team when the stage was entered.'),
    Column('entered', Integer, nullable=False, comment='Entries.'),
    Column('advanced', Integer, nullable=False, comment='Exits to a later stage or won.'),
    Column('regressed', Integer, nullable=False, comment='Exits to an earlier stage.'),
    Column('lost', Integer, nullable=False, comment='Exits to lost.'),
    Column('open_delta', Integer, nullable=False, comment='Change of the open count.'),
    Column('amount_delta', Numeric, nullable=False, comment='Change of the open amount.'),
    Index('funnel_delta_pipeline_stage_owner_id_team_id_day_idx', 'pipeline', 'stage', 'owner_id', 'team_id', 'day'),
    comment='Per-deal, per-day changes behind funnel_daily (entries, exits, open count and amount deltas).',
)

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
    Column('deltas', Integer, nullable=False, comment='funnel_delta rows summed here (the row goes when none are left).'),
    # day first: removing a key's emptied row probes one day's keys, not the key's history
    Index('funnel_day_sums_key_idx', 'day', 'pipeline', 'stage', 'owner_id', 'team_id', unique=True,
          postgresql_nulls_not_distinct=True),
    Index('funnel_day_sums_pipeline_stage_owner_id_team_id_day_idx', 'pipeline', 'stage', 'owner_id', 'team_id', 'day'),
    comment='funnel_delta summed per day, stage and owner/team, kept by adding each change (funnel_daily adds the running end-of-day values).',
)


def _month_sums() -> list[Column]:
    return [
        Column('activities', Integer, nullable=False, comment='deal_activity rows in the month (the performance row shows when > 0).'),
        Column('revenue_won', Numeric, nullable=False, comment='Sum of signed amounts of deals finally won in the month.'),
        Column('deals_won', Integer, nullable=False, comment='Deals finally won in the month.'),
        Column('deals_lost', Integer, nullable=False, comment='Deals finally lost in the month.'),
        Column('cycle_days_sum', Numeric, nullable=False, comment='Sum of the cycle times of the deals won (each cycle_days as numeric, exact).'),
        Column('contacts', Integer, nullable=False, comment='Contacts logged in the month.'),
        Column('quotes', Integer, nullable=False, comment='Quotes issued in the month.'),
        Column('new_deals', Integer, nullable=False, comment='Deals created in the month.'),
        Column('csat_sum', Integer, nullable=False, comment='Sum of feedback scores.'),
        Column('csat_count', Integer, nullable=False, comment='Number of feedback scores.'),
        Column('open_delta', Integer, nullable=False, comment='Stage visits entered minus visits left in the month (their running sum is open_deals).'),
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

pipeline_stage = Table(
    'pipeline_stage', metadata,
    Column('pipeline', Text, primary_key=True, comment='Pipeline key.'),
    Column('stage', Text, primary_key=True, comment='Open stage key.'),
    Column('stage_index', Integer, nullable=False, comment='0-based order.'),
    Column('probability', Numeric, nullable=False, comment='Configured win probability.'),
    Column('stall_after_days', Integer, comment='Days without activity after which an open deal is stalled.'),
    Column('target_conversion', Numeric, comment='Target conversion to the next stage.'),
    comment='Stage definitions in force (ordered open stages per pipeline).',
)

projection_checkpoint = Table(
    'projection_checkpoint', metadata,
    Column('projection', Text, primary_key=True, comment='Projection name.'),
    Column('partition', Integer, primary_key=True, comment='Kafka partition, or -1.'),
    Column('position', BigInteger, nullable=False, comment='Highest position applied from that partition.'),
    Column('updated_at', TIMESTAMPTZ, nullable=False, server_default=text('now()'), comment='When it moved.'),
    comment="Positions each projection applied: per Kafka partition (informational), and partition -1: the watermark below which every event is applied (reports' as_of_position; the relay republishes from it).",
)

targets = Table(
    'targets', metadata,
    Column('target_id', Text, primary_key=True, comment='scope.scope_id.period.metric (stream target:<target_id>).'),
    Column('scope', Text, nullable=False, comment='rep, team or company.'),
    Column('scope_id', Text, nullable=False, comment='Rep id, team id, or the company id.'),
    Column('period', Text, nullable=False, comment='2026-11, 2026-Q4 or 2026.'),
    Column('period_start', Date, nullable=False, comment='First day of the period.'),
    Column('period_end', Date, nullable=False, comment='First day after the period.'),
    Column('metric', Text, nullable=False, comment='revenue, deals_won, new_deals, win_rate, avg_cycle_days or contacts.'),
    Column('value', Numeric, nullable=False, comment='The target value in force.'),
    Column('version', Integer, nullable=False, comment='How many times it was set.'),
    Column('set_at', TIMESTAMPTZ, nullable=False, comment='occurred_at of the latest target.set.'),
    Index('targets_period_idx', 'period'),
    Index('targets_scope_scope_id_idx', 'scope', 'scope_id'),
    comment='Current value of each target (scope, scope_id, period, metric); a new target.set supersedes the old value.',
)

target_history = Table(
    'target_history', metadata,
    Column('target_id', Text, primary_key=True, comment='The target.'),
    Column('version', Integer, primary_key=True, comment='1, 2, ...'),
    Column('value', Numeric, nullable=False, comment='The value set.'),
    Column('set_at', TIMESTAMPTZ, nullable=False, comment='occurred_at of that target.set.'),
    comment='Every value a target ever had.',
)

reviews = Table(
    'reviews', metadata,
    Column('review_id', Text, primary_key=True, comment='Stream review:<review_id>.'),
    Column('trigger', Text, nullable=False, comment='deviation, stalled or manual.'),
    Column('scope', Text, nullable=False, comment='rep, team or company.'),
    Column('scope_id', Text, nullable=False, comment='Who it concerns.'),
    Column('period', Text, nullable=False, comment='The period it concerns.'),
    Column('metric', Text, nullable=False, comment='The metric that triggered it.'),
    Column('expected', Numeric, comment='Expected value (e.g. the pace) when opened.'),
    Column('actual', Numeric, comment='Actual value when opened.'),
    Column('notes', Text, comment='Notes given when opened.'),
    Column('status', Text, nullable=False, comment='open or closed.'),
    Column('opened_at', TIMESTAMPTZ, nullable=False, comment='When opened.'),
    Column('closed_at', TIMESTAMPTZ, comment='When closed.'),
    Column('summary', Text, comment='Summary given when closed.'),
    Column('actions_total', Integer, nullable=False, comment='Actions added.'),
    Column('actions_open', Integer, nullable=False, comment='Actions not completed.'),
    Column('version', Integer, nullable=False, comment='Stream version.'),
    Index('reviews_status_idx', 'status'),
    Index('reviews_scope_scope_id_period_idx', 'scope', 'scope_id', 'period'),
    comment="Review meetings' subjects: opened by a deviation alert, stalled deals or by hand.",
)

review_actions = Table(
    'review_actions', metadata,
    Column('review_id', Text, primary_key=True, comment='The review.'),
    Column('action_id', Text, primary_key=True, comment='Action id (unique within the review).'),
    Column('title', Text, nullable=False, comment='What is to be done.'),
    Column('owner_id', Text, nullable=False, comment='Who does it.'),
    Column('due_date', Date, comment='By when.'),
    Column('added_at', TIMESTAMPTZ, nullable=False, comment='When agreed.'),
    Column('completed_at', TIMESTAMPTZ, comment='When completed; null while open.'),
    Column('outcome', Text, comment='Outcome given on completion.'),
    Index('review_actions_owner_id_idx', 'owner_id'),
    comment='Action items agreed in reviews.',
)

feedback = Table(
    'feedback', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('seq', Integer, primary_key=True, comment='The stream_version of the deal.feedback_recorded event.'),
    Column('occurred_at', TIMESTAMPTZ, nullable=False, comment='When given.'),
    Column('month', Date, nullable=False, comment='UTC month.'),
    Column('score', Integer, nullable=False, comment='1 (poor) to 5 (excellent).'),
    Column('comment', Text, comment='Free text.'),
    Column('source', Text, comment="customer or rep (the event's `from`)."),
    Column('owner_id', Text, comment='Deal owner at that moment.'),
    Column('team_id', Text, comment='Team at that moment.'),
    Index('feedback_owner_id_month_idx', 'owner_id', 'month'),
    Index('feedback_team_id_month_idx', 'team_id', 'month'),
    comment='Customer and rep satisfaction feedback on deals (voided feedback excluded).',
)

forecast_snapshot = Table(
    'forecast_snapshot', metadata,
    Column('period', Text, primary_key=True, comment='The period forecast.'),
    Column('scope', Text, primary_key=True, comment='rep, team or company.'),
    Column('scope_id', Text, primary_key=True, comment='Who.'),
    Column('taken_at', TIMESTAMPTZ, nullable=False, comment='When the snapshot was taken.'),
    Column('weighted_pipeline', Numeric, nullable=False, comment='Open amount x configured stage probability.'),
    Column('historical_forecast', Numeric, nullable=False, comment='Open amount x P(won | stage) from the last 12 months.'),
    Column('won_to_date', Numeric, nullable=False, comment='Revenue already won in the period when taken.'),
    Column('as_of_position', BigInteger, nullable=False, comment='The last event position the forecast reflected (traceability).'),
    Column('partial', Boolean, nullable=False, server_default=text('false'), comment='True when taken after the period started: it reflects the pipeline then, not at the period start; forecast accuracy leaves it out.'),
    Column('partial_reason', Text, comment='Why the snapshot is partial (NULL when it is not).'),
    comment='The forecast as taken at the start of each period (for forecast accuracy); written by `dealtrail watch`, not rebuilt from events.',
)

funnel_cohort = Table(
    'funnel_cohort', metadata,
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('day', Date, nullable=False, comment='UTC day the deals were created (business time).'),
    Column('owner_id', Text, comment='Current owner.'),
    Column('team_id', Text, comment='Current team.'),
    Column('segment', Text, comment='Customer segment.'),
    Column('furthest_stage_index', Integer, nullable=False, comment='Furthest open stage reached (number of open stages = won).'),
    Column('status', Text, nullable=False, comment='open, won or lost.'),
    Column('entered_stages', ARRAY(Text), nullable=False, comment='Open stages actually entered.'),
    Column('deals', Integer, nullable=False, comment='How many deals share all of the above.'),
    Index('funnel_cohort_key_idx', 'pipeline', 'day', 'owner_id', 'team_id', 'segment', 'furthest_stage_index',
          'status', 'entered_stages', unique=True, postgresql_nulls_not_distinct=True),
    comment='Deals per UTC creation day and shape (owner, team, segment, furthest stage, status, stages entered): the cohort funnel summed without scanning deals.',
)

# The cohort funnel summed per UTC creation month, so that whole months need no day or deal
# scan: a query adds funnel_cohort's whole days and deal_current's partial days at its edges.
funnel_cohort_month = Table(
    'funnel_cohort_month', metadata,
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('month', Date, nullable=False, comment='First day of the UTC month the deals were created in (business time).'),
    Column('owner_id', Text, comment='Current owner.'),
    Column('team_id', Text, comment='Current team.'),
    Column('segment', Text, comment='Customer segment.'),
    Column('furthest_stage_index', Integer, nullable=False, comment='Furthest open stage reached (number of open stages = won).'),
    Column('status', Text, nullable=False, comment='open, won or lost.'),
    Column('deals', Integer, nullable=False, comment='How many deals share all of the above.'),
    Index('funnel_cohort_month_pipeline_month_idx', 'pipeline', 'month'),
    Index('funnel_cohort_month_key_idx', 'pipeline', 'month', 'owner_id', 'team_id', 'segment',
          'furthest_stage_index', 'status', unique=True, postgresql_nulls_not_distinct=True),
    comment='Deals per UTC creation month, owner, team, segment, furthest stage and status: funnel_cohort summed by month (reached, won, lost of the cohort funnel).',
)

funnel_cohort_month_entered = Table(
    'funnel_cohort_month_entered', metadata,
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('month', Date, nullable=False, comment='First day of the UTC month the deals were created in (business time).'),
    Column('owner_id', Text, comment='Current owner.'),
    Column('team_id', Text, comment='Current team.'),
    Column('segment', Text, comment='Customer segment.'),
    Column('stage', Text, nullable=False, comment='Open stage.'),
    Column('deals', Integer, nullable=False, comment='How many of those deals actually entered the stage.'),
    Index('funnel_cohort_month_entered_pipeline_month_idx', 'pipeline', 'month'),
    Index('funnel_cohort_month_entered_key_idx', 'pipeline', 'month', 'owner_id', 'team_id', 'segment', 'stage',
          unique=True, postgresql_nulls_not_distinct=True),
    comment='Deals per UTC creation month, owner, team and segment that actually entered each open stage (entered of the cohort funnel; skipped = reached - entered).',
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
    Column('dwell_days', Float, nullable=False, comment='Days spent in the stage, summed over its visits (deal_stage_history.dwell_seconds / 86400).'),
    *cycle_indexes('cycle_time_stage', 'stage', 'dwell_days'),
    comment='Closed deals: days spent in each open stage (summed over visits), with the cycle-time filters; the per-stage part of the cycle-time report.',
)

# The snapshot funnel at a business time: which deals were open in which stage, with which
# current amount, found by one range lookup instead of a visit scan and an amount lookup per deal.
funnel_open_span = Table(
    'funnel_open_span', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('stage', Text, primary_key=True, comment='The open stage it was in.'),
    Column('visit', Integer, primary_key=True, comment='Which visit of the stage (deal_stage_history.visit).'),
    Column('valid_from', TIMESTAMPTZ, primary_key=True, comment='Start of the span (business time).'),
    Column('during', TSTZRANGE, nullable=False, comment='[start, end) of the span: within the visit, while the deal had one current amount; end null while open.'),
    Column('pipeline', Text, nullable=False, comment='Pipeline key.'),
    Column('amount', Numeric, comment='Current amount during the span (latest quote, else expected amount; deal_amount_history).'),
    Column('owner_id', Text, comment='Current owner (deal_current).'),
    Column('team_id', Text, comment='Current team.'),
    Column('segment', Text, comment='Customer segment.'),
    Index('funnel_open_span_during_idx', 'during', postgresql_using='gist',
          postgresql_include=['pipeline', 'stage', 'amount', 'owner_id', 'team_id', 'segment']),
    comment='Open stage visits cut where the current amount changes: the deals open in each stage at any business time T, with their amounts then, are the spans whose `during` contains T (the snapshot funnel).',
)

deal_fold_point = Table(
    'deal_fold_point', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('point', Text, nullable=False, comment="The deal's folded state and row counters, as projections.points stores them (JSON text)."),
    comment='Internal to the live projection, not for reporting: where it resumes each deal, so that an event later in business time than everything before it is folded on its own instead of the whole stream again. Absent (rebuilt tables, a deal with events left out) means: derive the deal from its whole stream.',
)

projection_stream = Table(
    'projection_stream', metadata,
    Column('projection', Text, primary_key=True, comment='Projection name.'),
    Column('stream_id', Text, primary_key=True, comment='The stream (deal_id of events.event).'),
    Column('position', BigInteger, nullable=False, comment='Newest position of the stream the projection reflects.'),
    comment='Newest position each projection applied per stream (deal, target:, review:, pipeline:): redelivered events at or below it are skipped.',
)

projection_errors = Table(
    'projection_errors', metadata,
    Column('projection', Text, primary_key=True, comment='Projection name.'),
    Column('stream_id', Text, primary_key=True, comment='The stream whose rows are marked incomplete.'),
    Column('position', BigInteger, primary_key=True, comment='Position of the event left out.'),
    Column('event_id', UUID, comment="The event left out (null when the whole stream's write failed)."),
    Column('type', Text, comment='Its type.'),
    Column('error', Text, nullable=False, comment='Why it could not be applied.'),
    Column('recorded_at', TIMESTAMPTZ, nullable=False, server_default=text('now()'), comment='When the projection gave up on it.'),
    comment="Events a projection could not apply. The event is left out of its stream's rows (as if voided) and every other stream keeps projecting; a rebuild with fixed code retries it.",
)


# Bitemporal read models (SQL:2011 system versioning by recorded time): each of these tables holds
# its rows as they are now, each with recorded_from; its `_past` twin holds every earlier version
# with the recorded range [recorded_from, recorded_to) in which it was the row. A report `as_of`
# a moment reads the rows whose range holds it (projections.reports.relations). deal_current's
# versions keep the columns reports read (a contact does not make a new version of it).
VERSIONED_CURRENT = ("deal_id", "pipeline", "owner_id", "team_id", "segment", "stage", "status", "created_at",
                     "closed_at", "current_amount", "expected_close_date", "furthest_stage_index",
                     "entered_stages")
VERSIONED_TABLES = ("deal_current", "deal_stage_history", "deal_amount_history", "deal_activity", "cycle_time_deal")


def _past(table: Table) -> Table:
    kept = VERSIONED_CURRENT if table.name == "deal_current" else [c.name for c in table.columns]
    columns = [Column(c.name, c.type, nullable=c.nullable and not c.primary_key, comment=c.comment)
               for c in table.columns if c.name in kept and c.name != 'recorded_from']
    return Table(
        f'{table.name}_past', metadata, *columns,
        Column('recorded_from', TIMESTAMPTZ, nullable=False, comment='Recorded time from which this version was the row.'),
        Column('recorded_to', TIMESTAMPTZ, nullable=False, comment='Recorded time from which it no longer was (the next version, or the row went).'),
        Index(f'{table.name}_past_recorded_to_idx', 'recorded_to', 'recorded_from'),
        Index(f'{table.name}_past_deal_id_idx', 'deal_id'),  # a deal's versions (as_of reports probe per deal)
        comment=f'Earlier versions of {table.name} rows over recorded time (bitemporal: what the read models held '
                f'at any past moment is {table.name} rows with recorded_from <= T plus these with '
                f'recorded_from <= T < recorded_to).',
    )


PAST_TABLES = tuple(_past(metadata.tables[f"{SCHEMA}.{name}"]) for name in VERSIONED_TABLES)
# the deals created in a range as of a moment (the cohort funnel's days around whole months)
Index('deal_current_past_created_at_idx', metadata.tables[f"{SCHEMA}.deal_current_past"].c.created_at)
# the rep's team as of a moment: their latest activity of the month then (projections.sums.snapshots)
Index('deal_activity_past_owner_id_month_occurred_at_idx', *(metadata.tables[f"{SCHEMA}.deal_activity_past"].c[c]
      for c in ('owner_id', 'month', 'occurred_at', 'deal_id', 'seq')))

# The sums behind the cohort funnel and the performance reports at recorded moments, versioned:
# a report as of T reads them at the newest moment <= T and adds the change of the versioned rows
# since (projections.sums.snapshots).
SNAPSHOT_SUMS = ("rep_month_sums", "team_month_sums", "funnel_cohort_month", "funnel_cohort_month_entered")
_COHORT_MONTH = ("pipeline", "month", "owner_id", "team_id", "segment")
SNAPSHOT_KEYS = {  # each sums table's key
    "rep_month_sums": ("month", "owner_id"), "team_month_sums": ("month", "team_id"),
    "funnel_cohort_month": (*_COHORT_MONTH, "furthest_stage_index", "status"),
    "funnel_cohort_month_entered": (*_COHORT_MONTH, "stage")}


def _at(table: Table) -> Table:
    columns = [Column(c.name, c.type, nullable=c.nullable and not c.primary_key, comment=c.comment)
               for c in table.columns]
    return Table(
        f'{table.name}_at', metadata, *columns,
        Column('during', TSTZRANGE, nullable=False,
               comment='The snapshot moments (sums_moment) from which until which the key had these values.'),
        Index(f'{table.name}_at_during_idx', 'during', postgresql_using='gist'),
        # the versions a new snapshot may end: the open ones, by key
        Index(f'{table.name}_at_open_idx', *SNAPSHOT_KEYS[table.name], postgresql_where=text('upper_inf(during)')),
        comment=f'{table.name} at the moments of sums_moment, versioned: the rows whose `during` holds a moment '
                f'are {table.name} as of it (reports as_of a moment add the change of the versioned rows since).',
    )


SNAPSHOT_TABLES = tuple(_at(metadata.tables[f"{SCHEMA}.{name}"]) for name in SNAPSHOT_SUMS)

sums_moment = Table(
    'sums_moment', metadata,
    Column('moment', TIMESTAMPTZ, primary_key=True, comment='A recorded moment the *_at sums were taken at.'),
    Column('position', BigInteger, nullable=False, comment='The log position of the grid it stands for.'),
    comment='Moments the projection snapshotted the sums at (every DEALTRAIL_SNAPSHOT_EVERY log positions); a '
            'rebuild starts without any and the worker takes them again.',
)

versions_since = Table(
    'versions_since', metadata,
    Column('since', TIMESTAMPTZ, nullable=False, comment='Recorded time from which the _past tables are complete.'),
    comment='Set when an installation that kept no versions was upgraded: reports as_of an earlier moment are '
            'refused until `dealtrail rebuild` (which derives every version from the log and empties this).',
)


loop_settings = Table(
    'loop_settings', metadata,
    Column('name', Text, primary_key=True, comment='Setting name (deviation_threshold).'),
    Column('value', Text, nullable=False, comment='Its value, as configured (DEALTRAIL_DEVIATION_THRESHOLD).'),
    comment='Settings the read-model views use, written from the configuration by migrate, up and watch.',
)


# The target rule (SPEC §4), defined once: the target_attainment view, GET /v1/targets and
# `dealtrail watch` all evaluate these functions.
CUMULATIVE_METRICS = ("revenue", "deals_won", "new_deals", "contacts")
MIN_ELAPSED = "0.25"  # deviations are judged after a quarter of the period
FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION read_models.elapsed_fraction(period_start date, period_end date, at timestamptz)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT least(1.0, greatest(0.0,
    extract(epoch FROM at - (period_start::timestamp AT TIME ZONE 'UTC'))
    / extract(epoch FROM (period_end::timestamp AT TIME ZONE 'UTC') - (period_start::timestamp AT TIME ZONE 'UTC'))))::numeric
$$""",
    f"""CREATE OR REPLACE FUNCTION read_models.target_pace(metric text, target numeric, elapsed numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN metric IN ({", ".join(f"'{m}'" for m in CUMULATIVE_METRICS)}) THEN target * elapsed ELSE target END
$$""",
    """CREATE OR REPLACE FUNCTION read_models.target_status(metric text, actual numeric, pace numeric, threshold numeric)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN actual IS NULL THEN 'on_track'
    WHEN metric = 'avg_cycle_days' THEN  -- lower is better
      CASE WHEN actual <= pace THEN 'on_track' WHEN actual <= pace * (1 + threshold) THEN 'at_risk' ELSE 'behind' END
    ELSE CASE WHEN actual >= pace THEN 'on_track' WHEN actual >= pace * (1 - threshold) THEN 'at_risk' ELSE 'behind' END
  END
$$""",
    f"""CREATE OR REPLACE FUNCTION read_models.target_deviates(metric text, actual numeric, pace numeric,
                                                       threshold numeric, elapsed numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT read_models.target_status(metric, actual, pace, threshold) = 'behind' AND elapsed >= {MIN_ELAPSED}
$$""",
)


@dataclass(frozen=True)
class View:
    name: str
    select: str  # the view's query, in read_models
    comment: str
    columns: dict[str, str]  # column comments

    def statements(self, schema: str = SCHEMA) -> list[str]:
        """Create it in `schema`, reading that schema's tables (a rebuild or replay schema)."""
        select = self.select.replace(f"{SCHEMA}.", f"{schema}.")
        return [f"CREATE OR REPLACE VIEW {schema}.{self.name} AS {select}", *self.comments(schema)]

    def comments(self, schema: str = SCHEMA, columns: set[str] | None = None) -> list[str]:
        """COMMENT ON the view and its columns (only `columns`, if given)."""
        quote = lambda s: "'" + s.replace("'", "''") + "'"
        return [f"COMMENT ON VIEW {schema}.{self.name} IS {quote(self.comment)}",
                *(f"COMMENT ON COLUMN {schema}.{self.name}.{c} IS {quote(doc)}"
                  for c, doc in self.columns.items() if columns is None or c in columns)]


def grants(name: str, schema: str = SCHEMA, view: bool = False) -> list[str]:
    """BI reads everything here; the services also write the tables."""
    app_rights = "SELECT" if view else "SELECT, INSERT, UPDATE, DELETE"
    return [f"GRANT SELECT ON {schema}.{name} TO bi_reader",
            f"GRANT {app_rights} ON {schema}.{name} TO dealtrail_app"]


_PERFORMANCE_COLUMNS = {
    'revenue_won': 'Sum of signed amounts of deals finally won in the month.',
    'deals_won': 'Deals finally won in the month.', 'deals_lost': 'Deals finally lost in the month.',
    'win_rate': 'won / (won + lost).', 'avg_deal_size': 'revenue_won / deals_won.',
    'avg_cycle_days': 'Mean cycle time of the deals won in the month.',
    'cycle_days_sum': 'Sum of those cycle times (for averaging over periods).',
    'contacts': 'Contacts logged in the month.', 'quotes': 'Quotes issued in the month.',
    'new_deals': 'Deals created in the month.', 'csat_avg': 'Mean feedback score in the month.',
    'csat_sum': 'Sum of feedback scores.', 'csat_count': 'Number of feedback scores.',
    'open_deals': 'Deals open at the end of the month (owner when their stage was entered).',
    'sales_velocity': 'open_deals * win_rate * avg_deal_size / avg_cycle_days, per day.',
}

# The ratios from the sums exactly as a GROUP BY over deal_activity gave them; open_deals is the
# running sum of open_delta over all the key's months (months without activity included), and a
# row shows only for months with activity.
_PERFORMANCE = r"""
SELECT month, {who}, {team}revenue_won, deals_won, deals_lost, win_rate, avg_deal_size, avg_cycle_days,
       cycle_days_sum::float8 AS cycle_days_sum, contacts, quotes, new_deals, csat_avg, csat_sum, csat_count,
       open_deals,
       CASE WHEN win_rate IS NOT NULL AND avg_cycle_days > 0
            THEN open_deals * win_rate * avg_deal_size / avg_cycle_days END AS sales_velocity
FROM (SELECT s.*, deals_won::float8 / nullif(deals_won + deals_lost, 0) AS win_rate,
             round(revenue_won / nullif(deals_won, 0), 2) AS avg_deal_size,
             (cycle_days_sum / nullif(deals_won, 0))::float8 AS avg_cycle_days,
             (csat_sum::numeric / nullif(csat_count, 0))::float8 AS csat_avg,
             (sum(open_delta) OVER (PARTITION BY {who} ORDER BY month))::integer AS open_deals
      FROM read_models.{table} s) p
WHERE activities > 0"""

# Aggregates BI reads, computed from the *_sums tables the projection keeps (in dependency order).
AGGREGATE_VIEWS = (
    View('funnel_daily', r"""
SELECT day, pipeline, stage, owner_id, team_id, entered, advanced, regressed, lost,
       (sum(open_delta) OVER w)::integer AS open_end_of_day, sum(amount_delta) OVER w AS open_amount_end_of_day
FROM read_models.funnel_day_sums
WINDOW w AS (PARTITION BY pipeline, stage, owner_id, team_id ORDER BY day)""",
         'Funnel trend per day, stage and owner/team. A key has a row on each day its funnel changed; open_* are end-of-day values, so carry the last row forward on days without one.',
         {'day': 'UTC day (business time).', 'pipeline': 'Pipeline key.', 'stage': 'Open stage.',
          'owner_id': 'Owner when the stage was entered.', 'team_id': 'Team when the stage was entered.',
          'entered': 'Deals that entered the stage that day.', 'advanced': 'Deals that left it forward (or won).',
          'regressed': 'Deals that left it backward.', 'lost': 'Deals lost from it.',
          'open_end_of_day': 'Deals in the stage at the end of the day.',
          'open_amount_end_of_day': 'Their summed current amount.'}),
    View('rep_performance_month', _PERFORMANCE.format(who="owner_id", team="team_id, ", table="rep_month_sums"),
         'Per rep and month. Wins, losses and revenue count for the owner at closing; contacts, quotes and feedback for the owner when they happened; new deals for the owner at creation.',
         {'month': 'First day of the UTC month.', 'owner_id': 'The rep.',
          'team_id': "The rep's team in their latest activity that month.", **_PERFORMANCE_COLUMNS}),
    View('team_performance_month', _PERFORMANCE.format(who="team_id", team="", table="team_month_sums"),
         'Per team and month; same attribution rules as rep_performance_month.',
         {'month': 'First day of the UTC month.', 'team_id': 'The team.', **_PERFORMANCE_COLUMNS}),
)

# In dependency order (target_actuals reads the performance views, target_attainment target_actuals).
VIEWS = (
    *AGGREGATE_VIEWS,
    View('stalled_deals', r"""
SELECT d.deal_id, d.title, d.owner_id, d.team_id, d.pipeline, d.stage, d.stage_entered_at,
       d.last_activity_at, s.stall_after_days,
       extract(epoch FROM now() - d.last_activity_at) / 86400.0 AS days_since_activity,
       d.last_activity_at + make_interval(days => s.stall_after_days) AS stalled_since,
       d.current_amount
FROM read_models.deal_current d
JOIN read_models.pipeline_stage s ON s.pipeline = d.pipeline AND s.stage = d.stage
WHERE d.status = 'open' AND s.stall_after_days IS NOT NULL
  AND d.last_activity_at + make_interval(days => s.stall_after_days) < now()""",
         "Open deals with no stage move, contact or quote for longer than their stage's stall_after_days (evaluated at query time).",
         {'deal_id': 'The deal.', 'title': 'Deal title.', 'owner_id': 'Current owner.', 'team_id': 'Current team.', 'pipeline': 'Pipeline key.', 'stage': 'Current open stage.', 'stage_entered_at': 'When the current stage was entered.', 'last_activity_at': 'Latest stage entry, contact or quote (business time): the stall clock.', 'stall_after_days': "The stage's stall threshold in days.", 'days_since_activity': 'Days from last_activity_at to now.', 'stalled_since': 'When the deal became stalled (last_activity_at + stall_after_days).', 'current_amount': 'Latest quote amount, else expected amount.'}),
    View('target_actuals', r"""
WITH perf AS (
  SELECT 'rep' AS scope, owner_id AS scope_id, month, revenue_won, deals_won, deals_lost, new_deals,
         contacts, cycle_days_sum FROM read_models.rep_performance_month
  UNION ALL
  SELECT 'team', team_id, month, revenue_won, deals_won, deals_lost, new_deals, contacts, cycle_days_sum
  FROM read_models.team_performance_month
  UNION ALL
  SELECT 'company', NULL, month, revenue_won, deals_won, deals_lost, new_deals, contacts, cycle_days_sum
  FROM read_models.rep_performance_month
)
SELECT t.target_id, t.metric,
       CASE t.metric
         WHEN 'revenue' THEN coalesce(sum(p.revenue_won), 0)
         WHEN 'deals_won' THEN coalesce(sum(p.deals_won), 0)
         WHEN 'new_deals' THEN coalesce(sum(p.new_deals), 0)
         WHEN 'contacts' THEN coalesce(sum(p.contacts), 0)
         WHEN 'win_rate' THEN sum(p.deals_won)::numeric / nullif(sum(p.deals_won) + sum(p.deals_lost), 0)
         WHEN 'avg_cycle_days' THEN (sum(p.cycle_days_sum) / nullif(sum(p.deals_won), 0))::numeric
       END AS actual
FROM read_models.targets t
LEFT JOIN perf p ON p.scope = t.scope AND (t.scope = 'company' OR p.scope_id = t.scope_id)
 AND p.month >= t.period_start AND p.month < t.period_end
GROUP BY t.target_id, t.metric""",
         "Actual value of each target's metric over its period, from the monthly rep/team performance rows (company: all reps).",
         {'target_id': 'The target.', 'metric': 'Its metric.', 'actual': "Actual value over the target's period so far (null when undefined, e.g. a win rate without closed deals)."}),
    View('target_attainment', r"""
WITH base AS (
  SELECT t.*, a.actual, read_models.elapsed_fraction(t.period_start, t.period_end, now()) AS elapsed_fraction,
         coalesce((SELECT s.value::numeric FROM read_models.loop_settings s
                   WHERE s.name = 'deviation_threshold'), 0.2) AS threshold
  FROM read_models.targets t JOIN read_models.target_actuals a USING (target_id)
), paced AS (
  SELECT b.*, read_models.target_pace(b.metric, b.value, b.elapsed_fraction) AS pace FROM base b
)
SELECT target_id, scope, scope_id, period, metric, value AS target, actual,
       CASE WHEN metric = 'avg_cycle_days' THEN value / nullif(actual, 0) ELSE actual / nullif(value, 0) END AS attainment,
       elapsed_fraction, pace, read_models.target_status(metric, actual, pace, threshold) AS status,
       read_models.target_deviates(metric, actual, pace, threshold, elapsed_fraction) AS deviation
FROM paced""",
         "Per target: actual, target, attainment (actual/target; target/actual for avg_cycle_days), elapsed fraction of the period, pace (target x elapsed fraction for cumulative metrics, else the target), status on_track / at_risk (within the deviation threshold of pace) / behind, and whether it deviates (behind after a quarter of the period: the watcher opens a review). Evaluated at query time with the functions target_pace, target_status, target_deviates — the one definition the API and the watcher use too.",
         {'target_id': 'The target.', 'scope': 'rep, team or company.', 'scope_id': 'Who it concerns.', 'period': '2026-11, 2026-Q4 or 2026.', 'metric': 'The metric.', 'target': 'The target value in force.', 'actual': 'Actual value so far.', 'attainment': 'actual / target (target / actual for avg_cycle_days).', 'elapsed_fraction': 'Share of the period elapsed (0 to 1).', 'pace': 'Where the metric should be by now: target x elapsed_fraction for cumulative metrics, else the target.', 'status': 'on_track, at_risk (within the deviation threshold of pace) or behind.', 'deviation': 'Behind after at least a quarter of the period: a deviation review is due.'}),
    View('overdue_actions', r"""
SELECT a.*, r.scope, r.scope_id, r.period FROM read_models.review_actions a
JOIN read_models.reviews r USING (review_id)
WHERE a.completed_at IS NULL AND a.due_date < current_date""",
         'Open action items past their due date.',
         {'review_id': 'The review.', 'action_id': 'Action id (unique within the review).', 'title': 'What is to be done.', 'owner_id': 'Who does it.', 'due_date': 'By when.', 'added_at': 'When agreed.', 'completed_at': 'Always null here (open items).', 'outcome': 'Always null here.', 'scope': "The review's scope.", 'scope_id': 'Who the review concerns.', 'period': "The review's period."}),
)
