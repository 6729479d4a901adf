"""Schema evolution: stored events keep the `schema_version` they were written with; readers
upcast old payloads step by step to the current version of their type."""
from collections.abc import Callable
from dataclasses import replace

Upcaster = Callable[[dict], dict]

CURRENT_SCHEMA_VERSION: dict[str, int] = {}
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def current_version(event_type: str) -> int:
    return CURRENT_SCHEMA_VERSION.get(event_type, 1)


def register(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Decorate `fn(data) -> data` that turns version `from_version` into `from_version + 1`."""
    def wrap(fn: Upcaster) -> Upcaster:
        _UPCASTERS[(event_type, from_version)] = fn
        CURRENT_SCHEMA_VERSION[event_type] = max(current_version(event_type), from_version + 1)
        return fn
    return wrap


def upcast(event_type: str, schema_version: int, data: dict) -> tuple[int, dict]:
    while schema_version < current_version(event_type):
        data = _UPCASTERS[(event_type, schema_version)](data)
        schema_version += 1
    return schema_version, data


def upcast_envelope(env):
    """The envelope with its data at the current schema version (the stored row is untouched,
    so hashes still verify against what was written)."""
    version, data = upcast(env.type, env.schema_version, env.data)
    return env if version == env.schema_version else replace(env, schema_version=version, data=data)
