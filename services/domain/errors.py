"""Errors are values with codes; services.api.errors maps them to HTTP in one place."""
from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status = 422

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
    code, status = "validation_error", 422


class UnknownStage(DomainError):
    code, status = "unknown_stage", 422


class UnsupportedCurrency(DomainError):
    code, status = "unsupported_currency", 422


class FutureEvent(DomainError):
    code, status = "occurred_at_in_future", 422


class DealNotFound(DomainError):
    code, status = "deal_not_found", 404


class EventNotFound(DomainError):
    code, status = "event_not_found", 404


class DealExists(DomainError):
    code, status = "deal_exists", 409


class StageConflict(DomainError):
    code, status = "stage_conflict", 409


class DealClosed(DomainError):
    code, status = "deal_closed", 409


class DealNotClosed(DomainError):
    code, status = "deal_not_closed", 409


class VersionConflict(DomainError):
    code, status = "version_conflict", 409


class IdempotencyConflict(DomainError):
    code, status = "idempotency_conflict", 409


class BeforeCreation(DomainError):
    code, status = "before_creation", 409


class OutOfOrder(DomainError):
    code, status = "out_of_order", 409


class VoidConflict(DomainError):
    code, status = "void_conflict", 409


class PayloadTooLarge(DomainError):
    code, status = "payload_too_large", 413


class InvalidQuery(DomainError):
    code, status = "invalid_query", 422


class ReviewNotFound(DomainError):
    code, status = "review_not_found", 404


class ReviewExists(DomainError):
    code, status = "review_exists", 409


class ReviewClosed(DomainError):
    code, status = "review_closed", 409


class ActionNotFound(DomainError):
    code, status = "action_not_found", 404


class ActionConflict(DomainError):
    code, status = "action_conflict", 409


class PipelineConflict(DomainError):
    code, status = "pipeline_conflict", 409
