"""Issue 7, finding 4: which bodies count as JSON (else 415), and which correlation id a
request gets (its own when valid, else a fresh one)."""
import pytest

from services.api.plumbing.bodies import is_json
from services.api.plumbing.correlation import correlation_id


@pytest.mark.parametrize("content_type, expected", [
    (None, True), ("application/json", True), ("Application/JSON; charset=utf-8", True),
    ("application/cloudevents+json", True), ("text/plain", False), ("text/json", False),
    ("application/x-www-form-urlencoded", False), ("multipart/form-data; boundary=x", False),
    ("application/jsonp", False),
])
def test_json_media_types(content_type, expected):
    assert is_json(content_type) is expected


def _scope(*headers: tuple[bytes, bytes]) -> dict:
    return {"type": "http", "headers": list(headers)}


def test_a_valid_correlation_id_is_kept_once_chosen():
    scope = _scope((b"x-correlation-id", b"corr-1"))
    assert correlation_id(scope) == "corr-1" == correlation_id(scope)


@pytest.mark.parametrize("sent", [b"", b"a\x01b", b"x" * 201])
def test_an_invalid_correlation_id_is_replaced(sent):
    scope = _scope((b"x-correlation-id", sent))
    chosen = correlation_id(scope)
    assert chosen != sent.decode("latin-1") and len(chosen) == 36 and correlation_id(scope) == chosen
