"""One event appended from a command route (targets, reviews, pipelines): the body is validated as
the event model its type names, appended alone, and answered as AppendOut."""
from sqlalchemy import Engine

from events.schema import EVENT_MODELS
from infra.settings import Settings
from services.api.plumbing.deps import Origin
from services.api.plumbing.models import AppendOut
from services.appending import Command, append_events


def append_one(engine: Engine, settings: Settings, origin: Origin, stream: str, kind: str, data: dict,
               **extra) -> AppendOut:
    event = EVENT_MODELS[kind].model_validate({"type": kind, "data": data, **extra})
    [result] = append_events(engine, [Command(stream, event, origin.causation_id)], origin.context,
                             currency=settings.currency)
    return AppendOut.of(result.envelope)
