"""The one MetaData every read-model table is declared in (schema read_models), and the column
helpers the declarations share."""
from sqlalchemy import TIMESTAMP, Column, Index, MetaData, text

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
