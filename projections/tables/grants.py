"""Who may read and write a read-model relation."""
from projections.tables.base import SCHEMA


def grants(name: str, schema: str = SCHEMA, view: bool = False) -> list[str]:
    """BI reads everything here; the services also write the tables."""
    app_rights = "SELECT" if view else "SELECT, INSERT, UPDATE, DELETE"
    return [f"GRANT SELECT ON {schema}.{name} TO bi_reader",
            f"GRANT {app_rights} ON {schema}.{name} TO dealtrail_app"]
