"""Request bodies: size limits (413) and JSON numbers parsed as Decimal, never float."""
import json
from collections.abc import Callable
from decimal import Decimal

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

EVENT_BODY_LIMIT = 256 * 1024
BATCH_BODY_LIMIT = 64 * 1024 * 1024


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
            self._json = json.loads(await self.body(), parse_float=Decimal)
        return self._json


def _too_large(limit: int) -> HTTPException:
    # An HTTPException passes through FastAPI's body parsing untouched (others become 400).
    return HTTPException(status_code=413, detail=f"request body exceeds {limit} bytes")


def limited_route(limit: int) -> type[APIRoute]:
    """An APIRoute class whose requests are DecimalJSONRequest with the given size limit."""
    request_class = type(f"DecimalJSONRequest{limit}", (DecimalJSONRequest,), {"limit": limit})

    class LimitedRoute(APIRoute):
        def get_route_handler(self) -> Callable:
            handler = super().get_route_handler()

            async def custom(request: Request) -> Response:
                return await handler(request_class(request.scope, request.receive))
            return custom
    return LimitedRoute
