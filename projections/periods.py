"""Calendar periods of business time: the one parser lives in events.periods (the API
validates with it too); projections import it from here."""
from events.periods import bounds, parse

__all__ = ["bounds", "parse"]
