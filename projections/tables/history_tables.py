"""Bitemporal history: the `_past` twin of each versioned table, the sums at recorded moments,
and since when the history is complete (projections.deals.history, projections.sums.snapshots)."""
from sqlalchemy import BigInteger, Column, Index, Table, text
from sqlalchemy.dialects.postgresql import TSTZRANGE

from projections.tables import deal_tables, sum_tables  # noqa: F401  (the tables twinned here come first)
from projections.tables.base import SCHEMA, TIMESTAMPTZ, metadata

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
        Column('recorded_from', TIMESTAMPTZ, nullable=False,
               comment='Recorded time from which this version was the row.'),
        Column('recorded_to', TIMESTAMPTZ, nullable=False,
               comment='Recorded time from which it no longer was (the next version, or the row went).'),
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
