"""Request bodies: JSON only (415 otherwise), size limits (413) and JSON numbers parsed as
Decimal, never float."""
import json
from collections.abc import Callable

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from infra.jsontext import loads_decimal

EVENT_BODY_LIMIT = 256 * 1024
BATCH_BODY_LIMIT = 10 * 1024 * 1024  # ~14x in RSS while appended (services.api.batch_gate); demo events are ~240 bytes
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
            except json.JSONDecodeError:
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


def limited_route(limit: int) -> type[APIRoute]:
    """An APIRoute class whose requests are JSON-only DecimalJSONRequest with the given size limit."""
    request_class = type(f"DecimalJSONRequest{limit}", (DecimalJSONRequest,), {"limit": limit})

    class LimitedRoute(APIRoute):
        def get_route_handler(self) -> Callable:
            handler = super().get_route_handler()

            async def custom(request: Request) -> Response:
                request = request_class(request.scope, request.receive)
                await _require_json(request)
                return await handler(request)
            return custom
    return LimitedRoute
