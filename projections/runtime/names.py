"""Schema names placed in SQL text (a build, replay or check schema: they come from code, never
from requests)."""
import re

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def schema_name(name: str) -> str:
    """A schema name safe to place in SQL."""
    if not _NAME.match(name):
        raise ValueError(f"bad schema name {name!r}")
    return name
