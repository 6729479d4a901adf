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
