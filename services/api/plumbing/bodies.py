"""Request bodies: JSON only (415 otherwise; a body without Content-Type is read as JSON, as
docs/api.md says), size limits (413), JSON numbers parsed as Decimal, never float, and strict
JSON (422 for a duplicated key or an unbounded number: infra.jsontext.loads_decimal)."""
import json
from collections.abc import Callable

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from infra.jsontext import BodyRefused, loads_decimal

EVENT_BODY_LIMIT = 256 * 1024
# ~14x in RSS while appended (services.api.plumbing.batch_gate); demo events are ~240 bytes
BATCH_BODY_LIMIT = 10 * 1024 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class DecimalJSONRequest(Request):
    limit = EVENT_BODY_LIMIT

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.limit:
                raise _too_large(self.limit)
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > self.limit:
                    raise _too_large(self.limit)
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self):
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = loads_decimal(body)
            except (json.JSONDecodeError, BodyRefused):
                raise
            except (ValueError, RecursionError) as exc:
                # Bad UTF-8, integers past Python's digit limit, nesting past the recursion limit:
                # malformed input like any other (FastAPI answers 422 to JSONDecodeError only).
                raise json.JSONDecodeError(f"unreadable JSON ({type(exc).__name__})", "", 0) from None
        return self._json


def _too_large(limit: int) -> HTTPException:
    # An HTTPException passes through FastAPI's body parsing untouched (others become 400).
    return HTTPException(status_code=413, detail=f"request body exceeds {limit} bytes")


def is_json(content_type: str | None) -> bool:
    """No content type is taken as JSON (as FastAPI does); else application/json or */*+json."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _require_json(request: Request) -> None:
    if request.method in _BODY_METHODS and await request.body() and not is_json(request.headers.get("content-type")):
        raise HTTPException(status_code=415, detail="request body must be JSON (Content-Type: application/json)")


async def _refuse_strictly(request: Request) -> None:
    """Parse the body before FastAPI does, so that what the strict parser refuses is a 422
    naming it (FastAPI turns any parse error but JSONDecodeError into a bare 400). Malformed
    JSON is left to FastAPI's own 422; the parsed body is kept for the handler."""
    if request.method not in _BODY_METHODS or not await request.body():
        return
    try:
        await request.json()
    except BodyRefused as refused:
        raise RequestValidationError([{"type": refused.kind, "loc": ("body",), "msg": str(refused),
                                       "input": None}]) from None
    except json.JSONDecodeError:
        pass


def limited_route(limit: int) -> type[APIRoute]:
    """An APIRoute class whose requests are JSON-only DecimalJSONRequest with the given size limit."""
    request_class = type(f"DecimalJSONRequest{limit}", (DecimalJSONRequest,), {"limit": limit})

    class LimitedRoute(APIRoute):
        def __init__(self, *args, **kwargs):
            # FastAPI >= 0.130 leaves a body without Content-Type unparsed (then any model is a 422);
            # _require_json has already refused every other media type with 415.
            kwargs["strict_content_type"] = False
            super().__init__(*args, **kwargs)

        def get_route_handler(self) -> Callable:
            handler = super().get_route_handler()

            async def custom(request: Request) -> Response:
                request = request_class(request.scope, request.receive)
                await _require_json(request)
                await _refuse_strictly(request)
                return await handler(request)
            return custom
    return LimitedRoute
