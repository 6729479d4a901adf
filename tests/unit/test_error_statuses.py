"""Domain errors know codes only; the API maps every code to an HTTP status in one place."""
from domain import errors
from services.api.plumbing.errors import DOMAIN_STATUS


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_domain_error_code_has_a_status_and_no_error_has_one_itself():
    classes = list(_subclasses(errors.DomainError))
    assert classes and {c.code for c in classes} <= set(DOMAIN_STATUS)
    assert not any(hasattr(c, "status") for c in classes)


def test_the_documented_error_codes_are_the_codes_answered():
    """OpenAPI lists `code` as an enum (ErrorCode): exactly the domain codes, the HTTP ones, and
    the API's own (internal_error, and http_error for a status without a name)."""
    from typing import get_args

    from services.api.plumbing.errors import _HTTP_CODES
    from services.api.plumbing.models import ErrorCode, ErrorOut
    answered = {*DOMAIN_STATUS, *_HTTP_CODES.values(), "http_error", "internal_error"}
    assert set(get_args(ErrorCode)) == answered
    assert ErrorOut.model_json_schema()["$defs"]["ErrorBody"]["properties"]["code"]["enum"]
