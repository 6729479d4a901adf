"""Rows as the text of PostgreSQL's COPY ... FROM STDIN (tab-separated, \\N for NULL), built a
column at a time: one type test per column instead of one per value, text columns without a
special character passed through whole, and each distinct timestamp formatted once. The text is
the same, value for value, as formatting each value by its type (`value_text`)."""
import re
from datetime import date, datetime, timezone
from decimal import Decimal

from events.canonical import canonical_json
from infra.array_text import array_text

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")


def _text(value: str) -> str:
    return value.translate(_ESCAPES) if _SPECIAL.search(value) else value


def _array(value: list) -> str:
    return _text(array_text(value))


_FORMATS = {str: _text, int: str, float: repr, Decimal: str, datetime: datetime.isoformat,
            date: date.isoformat, bool: lambda v: "t" if v else "f", list: _array,
            dict: lambda v: _text(canonical_json(v))}


def value_text(value) -> str:
    """One value as COPY text."""
    return NULL if value is None else _FORMATS[type(value)](value)


def copy_text(rows: list[tuple], times: dict | None = None) -> str:
    """The COPY text of `rows` (all of one width), a line each. `times`: UTC timestamps already
    formatted (share one between the tables of a chunk: their rows repeat the events' times)."""
    if not rows:
        return ""
    times = {} if times is None else times
    columns = [_column(values, times) for values in zip(*rows)]
    return "\n".join(map("\t".join, zip(*columns))) + "\n"


def _column(values: tuple, times: dict) -> list[str] | tuple:
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds:
        return (NULL,) * len(values)
    if len(kinds) > 1:
        return [value_text(v) for v in values]
    kind = kinds.pop()
    if kind is str:
        return _texts(values)
    if kind is datetime:
        return _timestamps(values, times)
    fmt = _FORMATS[kind]
    return [NULL if v is None else fmt(v) for v in values]


def _texts(values: tuple) -> list[str] | tuple:
    """Text values, passed through unless one needs escaping (the common case: none does)."""
    present = [v for v in values if v is not None] if None in values else values
    if not _SPECIAL.search("".join(present)):
        return values if present is values else [NULL if v is None else v for v in values]
    return [NULL if v is None else _text(v) for v in values]


def _timestamps(values: tuple, times: dict) -> list[str]:
    """Each distinct UTC timestamp formatted once. Only those with the UTC singleton as tzinfo
    are cached: an equal moment at another offset formats differently."""
    out = []
    for v in values:
        if v is None:
            out.append(NULL)
        elif v.tzinfo is timezone.utc:
            text = times.get(v)
            if text is None:
                text = times[v] = v.isoformat()
            out.append(text)
        else:
            out.append(v.isoformat())
    return out
