"""Decoding JSON text fast: orjson (in C) where it gives what the stdlib gives, the stdlib for
the rest. orjson turns integers beyond 64 bits into floats and refuses NaN and lone
surrogates, so text with a run of 19 digits or more, or that orjson refuses, goes to the
stdlib. Used for json/jsonb columns and wherever events are read back."""
import json
import re

import orjson

_LONG_NUMBER = re.compile(r"[0-9]{19}")
_LONG_NUMBER_BYTES = re.compile(rb"[0-9]{19}")


def loads(text: str | bytes):
    long_number = _LONG_NUMBER_BYTES if isinstance(text, (bytes, bytearray)) else _LONG_NUMBER
    if long_number.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
