"""Deal-level tables: a deal's current row, its stage, amount and activity history, its cycle time,
funnel deltas, feedback, and the live projection's resume point (projections.deals)."""
from sqlalchemy import ARRAY, BigInteger, Column, Date, Float, Index, Integer, Numeric, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from projections.tables.base import TIMESTAMPTZ, cycle_indexes, metadata, recorded_from

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
    Column('furthest_stage_index', Integer,
           comment='0-based index of the furthest open stage reached; won = number of open stages.'),
    Column('entered_stages', ARRAY(Text), comment='Open stages actually entered at least once.'),
    Column('version', Integer, comment='Stream version of the latest event applied.'),
    Column('last_position', BigInteger, comment='Global position of the latest event applied.'),
    Column('expected_close_date', Date,
           comment='Expected close date (deal.created, then the latest deal.updated); the forecast places open deals '
                   'in periods by it.'),
    Column('fields', JSONB, nullable=False,
           comment='Custom fields (deal.updated): at most 50 keys, values text, number or boolean.'),
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
    comment='One row per deal: its state folded from its events in business-time order (occurred_at), '
            'voided events excluded.',
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
    Column('entered_by', Text, nullable=False,
           comment='create, move (next stage), skip (forward past stages), regression (backward), reopen.'),
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
    Column('seq', Integer, primary_key=True,
           comment="The stream_version of the event behind the row; 0 for the deal's final close (won/lost)."),
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
    comment='Per-deal facts that performance aggregates: creation, contacts, quotes, feedback and the final close, '
            'each attributed to the owner at that moment.',
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


deal_fold_point = Table(
    'deal_fold_point', metadata,
    Column('deal_id', Text, primary_key=True, comment='The deal.'),
    Column('point', Text, nullable=False,
           comment="The deal's folded state and row counters, as projections.deals.points stores them (JSON text)."),
    comment='Internal to the live projection, not for reporting: where it resumes each deal, so that an event later in '
            'business time than everything before it is folded on its own instead of the whole stream again. Absent '
            '(rebuilt tables, a deal with events left out) means: derive the deal from its whole stream.',
)
