"""Shared bits of the report queries: filters, rounding, money as strings."""
from decimal import ROUND_HALF_UP, Decimal

from projections.reports.relations import AsOf
from projections.runtime.names import schema_name

CENT = Decimal("0.01")


def money(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def ratio(numerator, denominator, digits: int = 4) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def days(value) -> float | None:
    return None if value is None else round(float(value), 2)


def deal_filters(alias: str = "d") -> str:
    """Optional equality filters on deal_current columns; absent parameters match everything."""
    return " AND ".join(f"(CAST(%({name})s AS text) IS NULL OR {alias}.{name} = %({name})s)"
                        for name in ("owner_id", "team_id", "segment"))


Source = str | AsOf  # a schema of read models (read_models, a replay's), or the read models as of a moment


def qualified(source: Source, table: str) -> str:
    """Where a report reads `table`: schema.table, or its relation as of a moment (alias it)."""
    if isinstance(source, AsOf):
        return source.relation(table)
    return f"{schema_name(source)}.{table}"
