"""The system's own origins: the `actor` and `source` that bootstrap and the watcher record.
No client may claim them — not as a key's name (`services.keys`), not in `X-Dealtrail-Source`
(`services.api.plumbing.deps`): an event a client posted under `/bootstrap` or `/watch` would pass for
one the system wrote. `import:` is kept for importers (SPEC: the Salesforce import records
`import:salesforce`)."""
from domain.errors import DomainError

BOOTSTRAP_ACTOR, BOOTSTRAP_SOURCE = "dealtrail-bootstrap", "/bootstrap"
WATCH_ACTOR, WATCH_SOURCE = "dealtrail-watch", "/watch"
SYSTEM_ACTORS = frozenset({BOOTSTRAP_ACTOR, WATCH_ACTOR})
SYSTEM_SOURCES = (BOOTSTRAP_SOURCE, WATCH_SOURCE)
RESERVED_PREFIXES = ("import:",)


class ReservedSource(DomainError):
    code = "reserved_source"


def is_reserved(source: str) -> bool:
    """A system source, a path under one, or an importer's, whatever its case, surrounding
    spaces or trailing slashes (`/Bootstrap/ ` reads as `/bootstrap` to a person)."""
    folded = source.strip().lower()
    bare = folded.rstrip("/")
    return (bare in SYSTEM_SOURCES or any(folded.startswith(s + "/") for s in SYSTEM_SOURCES)
            or folded.startswith(RESERVED_PREFIXES))


def check_source(source: str | None) -> None:
    """Raise ReservedSource when a client claims the system's own source."""
    if source is not None and is_reserved(source):
        raise ReservedSource(f"source {source!r} is reserved for the system's own events",
                             source=source, reserved=[*SYSTEM_SOURCES, *(p + "*" for p in RESERVED_PREFIXES)])
