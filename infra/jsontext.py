"""Decoding JSON text fast: orjson (in C) where it gives what the stdlib gives, the stdlib for
the rest. orjson turns integers beyond 64 bits into floats and refuses NaN and lone
surrogates, so text that orjson refuses goes to the stdlib, and so does text with a run of 19
digits or more whose orjson value holds a float. Used for json/jsonb columns and wherever
events are read back; `loads_decimal` for request bodies, which it also holds to strict JSON
(no duplicated key, bounded number text: issue 23)."""
import json
import re
from decimal import Decimal

import orjson

_LONG_NUMBER = re.compile(r"[0-9]{19}")
_LONG_NUMBER_BYTES = re.compile(rb"[0-9]{19}")


def loads(text: str | bytes):
    """A run of 19 digits may be an integer beyond 64 bits, which orjson reads as a float; it is
    mostly a run inside a string (a genesis hash of 64 zeros in a new stream's head): then orjson's
    value holds no float and is the stdlib's."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    long_number = _LONG_NUMBER_BYTES if isinstance(text, (bytes, bytearray)) else _LONG_NUMBER
    if long_number.search(text) is not None and _holds_float(value):
        return json.loads(text)
    return value


class BodyRefused(ValueError):
    """A request body well-formed as JSON that Dealtrail still refuses: `kind` (a stable word
    for clients) and a message naming what and where."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


MAX_NUMBER_TEXT = 100
"""A JSON number's text, at most: the longest a body needs (amounts have 24 digits, a float's
positional form ~25) with room to spare. Checked on the text, before any conversion: a Decimal
or int of `1e7000000` took seconds of the event loop (issue 23)."""
MAX_EXPONENT = 400  # 1e308 and 5e-324, the float range, fit; 1e7000000 does not
_EXPONENT = re.compile(r"[eE]([+-]?[0-9]+)$")
_KEY_END = re.compile(rb'"[ \t\n\r]*:')
_KEY_END_TEXT = re.compile(r'"[ \t\n\r]*:')


def loads_decimal(text: str | bytes):
    """A request body: json.loads(text, parse_float=Decimal), every number with a fraction or an
    exponent a Decimal, never a float; BodyRefused for a duplicated key at any level (the last
    would silently win) and for a number whose text is too long or whose exponent is too large.

    orjson (reading a batch of 1,000 events ~5x faster) when what it gives holds no float
    (orjson reads those, and integers beyond 64 bits, as floats), it accepts the text, and the
    text cannot hold a duplicated key: every key ends in `"` and `:`, so when the count of such
    spots equals the keys orjson kept, no key was dropped. Anything else goes to the stdlib,
    whose hooks see each number's text before converting it and every object's pairs."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _strict_stdlib(text)
    has_float, keys = _scan(value)
    if has_float or keys != _key_ends(text):
        return _strict_stdlib(text)
    return value


def _key_ends(text: str | bytes) -> int:
    """Spots where a string is followed by a colon: each key, plus any `\\":` inside a string.
    `count` when no quote is followed by whitespace (most bodies), the regex otherwise: CPU time
    for a 1,000-event batch (300 KB) ~1.9 and ~3.9 ms on the busy 2-core test machine, beside
    ~7 ms for the rest of the parse."""
    if isinstance(text, (bytes, bytearray)):
        pattern, colon, spaced = _KEY_END, b'":', _SPACED
    else:
        pattern, colon, spaced = _KEY_END_TEXT, '":', _SPACED_TEXT
    if any(s in text for s in spaced):
        return len(pattern.findall(text))
    return text.count(colon)


_SPACED = (b'" ', b'"\n', b'"\t', b'"\r')
_SPACED_TEXT = ('" ', '"\n', '"\t', '"\r')


def _strict_stdlib(text: str | bytes):
    return json.loads(text, parse_float=_decimal, parse_int=_int, object_pairs_hook=_no_duplicates)


def _number_text(text: str) -> str:
    if len(text) > MAX_NUMBER_TEXT:
        raise BodyRefused("number_too_long", f"the number {text[:20]}... has {len(text)} characters; "
                                             f"at most {MAX_NUMBER_TEXT} are accepted")
    exponent = _EXPONENT.search(text)
    if exponent is not None and abs(int(exponent.group(1))) > MAX_EXPONENT:
        raise BodyRefused("number_out_of_range", f"the number {text} has an exponent beyond "
                                                 f"\u00b1{MAX_EXPONENT}")
    return text


def _decimal(text: str) -> Decimal:
    return Decimal(_number_text(text))


def _int(text: str) -> int:
    return int(_number_text(text))


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise BodyRefused("duplicate_key", f"the key {twice!r} appears more than once in one object")
    return value


def _scan(value) -> tuple[bool, int]:
    """Whether `value` holds a float, and how many keys its objects hold. Iterative: a body
    nested deeper than Python's recursion limit is the stdlib's to judge."""
    pending, keys = [value], 0
    while pending:
        value = pending.pop()
        if type(value) is float:
            return True, keys
        if type(value) is dict:
            keys += len(value)
            pending.extend(v for v in value.values() if type(v) in _NESTED_OR_FLOAT)
        elif type(value) is list:
            pending.extend(v for v in value if type(v) in _NESTED_OR_FLOAT)
    return False, keys


def _holds_float(value) -> bool:
    """Iterative: a body nested deeper than Python's recursion limit is the stdlib's to judge."""
    pending = [value]
    while pending:
        value = pending.pop()
        if type(value) is float:
            return True
        if type(value) is dict:
            pending.extend(v for v in value.values() if type(v) in _NESTED_OR_FLOAT)
        elif type(value) is list:
            pending.extend(v for v in value if type(v) in _NESTED_OR_FLOAT)
    return False


_NESTED_OR_FLOAT = frozenset((dict, list, float))
