"""Tables of the loop (projections.loop): pipelines' stages, targets and their history, reviews
and their actions, forecast snapshots, and the settings the loop's views read."""
from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, Numeric, Table, Text, text

from projections.tables.base import TIMESTAMPTZ, metadata

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


targets = Table(
    'targets', metadata,
    Column('target_id', Text, primary_key=True, comment='scope.scope_id.period.metric (stream target:<target_id>).'),
    Column('scope', Text, nullable=False, comment='rep, team or company.'),
    Column('scope_id', Text, nullable=False, comment='Rep id, team id, or the company id.'),
    Column('period', Text, nullable=False, comment='2026-11, 2026-Q4 or 2026.'),
    Column('period_start', Date, nullable=False, comment='First day of the period.'),
    Column('period_end', Date, nullable=False, comment='First day after the period.'),
    Column('metric', Text, nullable=False,
           comment='revenue, deals_won, new_deals, win_rate, avg_cycle_days or contacts.'),
    Column('value', Numeric, nullable=False, comment='The target value in force.'),
    Column('version', Integer, nullable=False, comment='How many times it was set.'),
    Column('set_at', TIMESTAMPTZ, nullable=False, comment='occurred_at of the latest target.set.'),
    Index('targets_period_idx', 'period'),
    Index('targets_scope_scope_id_idx', 'scope', 'scope_id'),
    comment='Current value of each target (scope, scope_id, period, metric); '
            'a new target.set supersedes the old value.',
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


forecast_snapshot = Table(
    'forecast_snapshot', metadata,
    Column('period', Text, primary_key=True, comment='The period forecast.'),
    Column('scope', Text, primary_key=True, comment='rep, team or company.'),
    Column('scope_id', Text, primary_key=True, comment='Who.'),
    Column('taken_at', TIMESTAMPTZ, nullable=False, comment='When the snapshot was taken.'),
    Column('weighted_pipeline', Numeric, nullable=False, comment='Open amount x configured stage probability.'),
    Column('historical_forecast', Numeric, nullable=False,
           comment='Open amount x P(won | stage) from the last 12 months.'),
    Column('won_to_date', Numeric, nullable=False, comment='Revenue already won in the period when taken.'),
    Column('as_of_position', BigInteger, nullable=False,
           comment='The last event position the forecast reflected (traceability).'),
    Column('partial', Boolean, nullable=False, server_default=text('false'),
           comment='True when taken after the period started: it reflects the pipeline then, not at the period '
                   'start; forecast accuracy leaves it out.'),
    Column('partial_reason', Text, comment='Why the snapshot is partial (NULL when it is not).'),
    comment='The forecast as taken at the start of each period (for forecast accuracy); written by `dealtrail watch`, '
            'not rebuilt from events.',
)


loop_settings = Table(
    'loop_settings', metadata,
    Column('name', Text, primary_key=True, comment='Setting name (deviation_threshold).'),
    Column('value', Text, nullable=False, comment='Its value, as configured (DEALTRAIL_DEVIATION_THRESHOLD).'),
    comment='Settings the read-model views use, written from the configuration by migrate, up and watch.',
)
