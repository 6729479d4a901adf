"""Decoding JSON text fast: orjson (in C), with the stdlib for what it refuses (integers
beyond 64 bits, NaN). Used for json/jsonb columns and wherever events are read back."""
import json

import orjson


def loads(text: str | bytes):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
