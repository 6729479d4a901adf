"""First start: define the default pipeline by an event (once; re-running is a no-op), and
record the settings the read-model views use."""
import uuid

from sqlalchemy import Engine

from domain.errors import IdempotencyConflict
from domain.pipelines import DEFAULT_PIPELINE
from events import store
from events.schema import EVENT_MODELS
from events.streams import Kind, stream_id
from projections.loop import settings
from services.appending import Command, append_events
from services.origins import BOOTSTRAP_ACTOR, BOOTSTRAP_SOURCE

DEFAULT_TARGET_CONVERSION = {"lead": "0.60", "contacted": "0.60", "needs_analysis": "0.60",
                             "proposal": "0.50", "negotiation": "0.50"}
EVENT_ID = uuid.UUID("8a4f0c62-3b7d-5e19-9c2a-6d1e0f4b7a31")


def default_definition() -> dict:
    return {"stages": [{"key": s.key, "probability": str(s.probability), "stall_after_days": s.stall_after_days,
                        "target_conversion": DEFAULT_TARGET_CONVERSION[s.key]}
                       for s in DEFAULT_PIPELINE.stages]}


def ensure_default_pipeline(engine: Engine, currency: str) -> bool:
    """True when this call recorded the default pipeline's first definition."""
    event = EVENT_MODELS["pipeline.defined"].model_validate(
        {"type": "pipeline.defined", "event_id": str(EVENT_ID), "data": default_definition()})
    ctx = store.Context(actor=BOOTSTRAP_ACTOR, source=BOOTSTRAP_SOURCE)
    try:
        [result] = append_events(engine, [Command(stream_id(Kind.PIPELINE, "default"), event)], ctx, currency=currency)
    except IdempotencyConflict:
        return False  # an older release defined it differently; its definition stands
    return result.created


def record_loop_settings(engine: Engine, deviation_threshold) -> None:
    """The configuration the read-model views need (the target rule's threshold)."""
    with engine.begin() as conn:
        settings.record_deviation_threshold(conn, deviation_threshold)
