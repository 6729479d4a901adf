"""Strict query strings: a query parameter the route does not declare is a 422, not ignored.

Why: a typo (`?stauts=open`, `?owner=r1`) used to answer 200 with the unfiltered list, which a
client cannot tell from a right answer. Installed once, as an app-wide dependency, it compares the
request's query keys with the matched route's declared query parameters (the ones OpenAPI lists,
sub-dependencies included), so every endpoint, present and future, is strict without code of its
own. A scalar parameter given twice is refused too (FastAPI would silently keep the last value)."""
from collections.abc import Iterator
from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError

_CACHE = "_dealtrail_query_params"
_SEQUENCES = (list, set, frozenset, tuple)


def _fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _fields(sub)


def _repeatable(annotation: Any) -> bool:
    """list[str], set[str] | None, ...: the parameter may legitimately appear more than once."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return any(_repeatable(arg) for arg in get_args(annotation))
    return origin in _SEQUENCES or annotation in _SEQUENCES


def declared(route: Any) -> dict[str, bool]:
    """The route's query parameters (by alias), each with whether it may repeat; cached on the route."""
    cached = getattr(route, _CACHE, None)
    if cached is None:
        cached = {field.alias: _repeatable(field.field_info.annotation) for field in _fields(route.dependant)}
        setattr(route, _CACHE, cached)
    return cached


def _problem(name: str, value: str, message: str, kind: str) -> dict[str, Any]:
    return {"type": kind, "loc": ("query", name), "msg": message, "input": value}


def problems(route: Any, request: Request) -> list[dict[str, Any]]:
    """Unknown and repeated parameters of this request, as validation errors."""
    accepted = declared(route)
    allowed = ", ".join(sorted(accepted)) or "none"
    found = []
    for name in dict.fromkeys(request.query_params.keys()):
        values = request.query_params.getlist(name)
        if name not in accepted:
            found.append(_problem(name, values[0], f"unknown query parameter (accepted: {allowed})",
                                  "extra_forbidden"))
        elif len(values) > 1 and not accepted[name]:
            found.append(_problem(name, values[-1], "given more than once; send it once", "repeated"))
    return found


async def reject_unknown_query(request: Request) -> None:
    """App-wide dependency: 422 `validation_error` naming every unknown or repeated parameter."""
    route = request.scope.get("route")
    if getattr(route, "dependant", None) is None or not request.query_params:
        return
    found = problems(route, request)
    if found:
        raise RequestValidationError(found)
