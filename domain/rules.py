"""`decide`: the rules of SPEC §2 for one incoming deal event against the deal's state.
Pure: the caller passes the clock, the reporting currency and (for voids) the history."""
from collections.abc import Mapping, Sequence
from datetime import datetime

from domain import errors
from domain.deal import FUTURE_TOLERANCE, DealState, Decided, Fact, stages_of
from domain.pipelines import PIPELINES, TERMINAL, Pipeline
from events.payloads import DEAL_EVENT_TYPES, MAX_CUSTOM_FIELDS
from events.schema import EventInBase

ALLOWED_WHEN_CLOSED = {"deal.reopened", "deal.feedback_recorded", "event.voided"}
UNVOIDABLE = {"deal.created", "event.voided"}
STAGE_CHANGING = {"deal.stage_moved", "deal.signed", "deal.lost", "deal.reopened"}


def decide(state: DealState, command: EventInBase, *, now: datetime, currency: str,
           history: Sequence[Fact] = (), pipelines: Mapping[str, Pipeline] = PIPELINES) -> list[Decided]:
    """The events `command` leads to, or the DomainError that forbids it."""
    kind = command.type
    if kind not in DEAL_EVENT_TYPES:
        raise errors.InvalidEvent(f"'{kind}' is not a deal event; use its own endpoint", type=kind)
    if command.occurred_at is not None and command.occurred_at > now + FUTURE_TOLERANCE:
        raise errors.FutureEvent("occurred_at is more than 5 minutes in the future",
                                 occurred_at=command.occurred_at.isoformat(), now=now.isoformat())
    _check_existence(state, kind)
    errors.check_expected_version(command.expected_version, state.version, "deal")
    at = command.occurred_at or now
    if kind != "deal.created":
        _check_business_time(state, kind, at)
    if state.closed and kind not in ALLOWED_WHEN_CLOSED:
        raise errors.DealClosed(f"deal {state.deal_id} is {state.status}; only reopen, feedback "
                                f"and void are accepted", status=state.status)
    if kind == "deal.created":
        _created(command.data, currency, pipelines)
    else:
        _CHECKS.get(kind, _no_check)(state, command.data, currency, history)
    return [Decided(type=kind, data=command.payload_dict(), occurred_at=at)]


def _check_business_time(state: DealState, kind: str, at: datetime) -> None:
    """One truth per deal: folding in stream order and in business order must agree, so
    nothing happens before the deal's creation and stage changes come in business order."""
    if state.created_at is not None and at < state.created_at:
        raise errors.BeforeCreation(
            f"occurred_at {at.isoformat()} is before the deal was created ({state.created_at.isoformat()})",
            occurred_at=at.isoformat(), created_at=state.created_at.isoformat())
    latest = state.stage_entered_at
    if kind in STAGE_CHANGING and latest is not None and at < latest:
        raise errors.OutOfOrder(
            f"{kind} at {at.isoformat()} is before the deal's latest stage change ({latest.isoformat()}); "
            f"stage changes must be recorded in business-time order", occurred_at=at.isoformat(),
            latest_stage_change_at=latest.isoformat())


def _check_existence(state: DealState, kind: str) -> None:
    if kind == "deal.created" and state.exists:
        raise errors.DealExists(f"deal {state.deal_id} already exists", deal_id=state.deal_id)
    if kind != "deal.created" and not state.exists:
        raise errors.DealNotFound(f"deal {state.deal_id} does not exist", deal_id=state.deal_id)


def _no_check(state, data, currency, history) -> None:
    return None


def _check_currency(code: str | None, currency: str) -> None:
    if code is not None and code != currency:
        raise errors.UnsupportedCurrency(
            f"currency {code} is not the reporting currency {currency} (no FX support yet)",
            currency=code, reporting_currency=currency)


def _check_open_stage(pipeline_key: str, stages: tuple[str, ...], stage: str, field: str) -> None:
    if stage in TERMINAL:
        raise errors.UnknownStage(f"{field} '{stage}' is terminal; use deal.signed or deal.lost",
                                  field=field, stage=stage)
    if stage not in stages:
        raise errors.UnknownStage(f"{field} '{stage}' is not a stage of pipeline '{pipeline_key}'",
                                  field=field, stage=stage, stages=list(stages))


def _created(data, currency, pipelines: Mapping[str, Pipeline]) -> None:
    if data.pipeline not in pipelines:
        raise errors.InvalidEvent(f"unknown pipeline '{data.pipeline}'", pipeline=data.pipeline,
                                  known=sorted(pipelines))
    _check_open_stage(data.pipeline, pipelines[data.pipeline].keys, data.stage, "stage")
    _check_currency(data.currency, currency)


def _moved(state, data, currency, history) -> None:
    _check_open_stage(state.pipeline, stages_of(state), data.from_stage, "from_stage")
    _check_open_stage(state.pipeline, stages_of(state), data.to_stage, "to_stage")
    if data.from_stage != state.stage:
        raise errors.StageConflict(
            f"from_stage is '{data.from_stage}' but the deal is in stage '{state.stage}'",
            from_stage=data.from_stage, current_stage=state.stage)
    if data.to_stage == data.from_stage:
        raise errors.InvalidEvent(f"the deal is already in stage '{data.to_stage}'",
                                  stage=data.to_stage)


def _money(state, data, currency, history) -> None:
    _check_currency(data.currency, currency)


def _updated(state, data, currency, history) -> None:
    _check_currency(data.currency, currency)
    after = {**state.fields, **(data.fields or {})}
    kept = [k for k, v in after.items() if v is not None]
    if len(kept) > MAX_CUSTOM_FIELDS:
        raise errors.InvalidEvent(f"a deal holds at most {MAX_CUSTOM_FIELDS} custom fields; this update "
                                  f"would leave {len(kept)}", fields=len(kept), limit=MAX_CUSTOM_FIELDS)


def _reopened(state, data, currency, history) -> None:
    if not state.closed:
        raise errors.DealNotClosed(f"deal {state.deal_id} is open (stage '{state.stage}')",
                                   current_stage=state.stage)
    _check_open_stage(state.pipeline, stages_of(state), data.to_stage, "to_stage")


def _voided(state, data, currency, history) -> None:
    target = str(data.event_id)
    facts = {f.event_id: f for f in history}
    if target not in facts:
        raise errors.EventNotFound(f"event {target} is not in deal {state.deal_id}", event_id=target)
    if facts[target].type in UNVOIDABLE:
        raise errors.VoidConflict(f"a {facts[target].type} event cannot be voided", event_id=target)
    voided = {f.data["event_id"] for f in history if f.type == "event.voided"}
    if target in voided:
        raise errors.VoidConflict(f"event {target} is already voided", event_id=target)
    if facts[target].type in STAGE_CHANGING:
        latest = max((f for f in history if f.type in STAGE_CHANGING and f.event_id not in voided),
                     key=lambda f: (f.occurred_at, f.stream_version))
        if latest.event_id != target:
            raise errors.VoidConflict(
                f"only the latest stage change can be voided (an undo): that is {latest.event_id} "
                f"({latest.type} at {latest.occurred_at.isoformat()})", event_id=target,
                latest_event_id=latest.event_id)


_CHECKS = {
    "deal.stage_moved": _moved, "deal.quote_issued": _money,
    "deal.signed": _money, "deal.reopened": _reopened, "event.voided": _voided, "deal.updated": _updated,
}
