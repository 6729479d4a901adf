"""Shared bits of the report queries: filters, rounding, money as strings."""
from decimal import ROUND_HALF_UP, Decimal

from projections.schema import schema_name

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


def qualified(schema: str, table: str) -> str:
    return f"{schema_name(schema)}.{table}"
