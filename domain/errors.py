"""Errors are values with codes; they know no HTTP (services.api.plumbing.errors maps codes to statuses)."""
from typing import Any


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details

    def at_index(self, index: int) -> "DomainError":
        """The same error, naming the batch item that caused it."""
        self.details = {"index": index, **self.details}
        self.message = f"events[{index}]: {self.message}"
        return self


class InvalidEvent(DomainError):
    code = "validation_error"


class UnknownStage(DomainError):
    code = "unknown_stage"


class UnsupportedCurrency(DomainError):
    code = "unsupported_currency"


class FutureEvent(DomainError):
    code = "occurred_at_in_future"


class DealNotFound(DomainError):
    code = "deal_not_found"


class EventNotFound(DomainError):
    code = "event_not_found"


class DealExists(DomainError):
    code = "deal_exists"


class StageConflict(DomainError):
    code = "stage_conflict"


class DealClosed(DomainError):
    code = "deal_closed"


class DealNotClosed(DomainError):
    code = "deal_not_closed"


class VersionConflict(DomainError):
    code = "version_conflict"


def check_expected_version(expected: int | None, actual: int, what: str) -> None:
    """Optimistic concurrency, the same for every stream: `expected_version` must be the version now."""
    if expected is not None and expected != actual:
        raise VersionConflict(f"expected version {expected}, the {what} is at version {actual}",
                              expected_version=expected, actual_version=actual)


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"


class BeforeCreation(DomainError):
    code = "before_creation"


class OutOfOrder(DomainError):
    code = "out_of_order"


class VoidConflict(DomainError):
    code = "void_conflict"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class InvalidQuery(DomainError):
    code = "invalid_query"


class ReviewNotFound(DomainError):
    code = "review_not_found"


class ReviewExists(DomainError):
    code = "review_exists"


class ReviewClosed(DomainError):
    code = "review_closed"


class ActionNotFound(DomainError):
    code = "action_not_found"


class ActionConflict(DomainError):
    code = "action_conflict"


class PipelineConflict(DomainError):
    code = "pipeline_conflict"


class TooManyStreams(DomainError):
    code = "too_many_streams"
