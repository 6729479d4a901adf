"""GET /v1/export: the log as a file for auditors. Its own router, so the app can guard it
with the auditor role in one place."""
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import Field

from events import export, export_formats
from events.values import Timestamp
from services.api.plumbing.deps import EngineDep
from services.api.plumbing.errors import documented
from services.api.plumbing.params import Filter

router = APIRouter()

Format = Literal["ndjson", "cloudevents", "csv"]
Position = Annotated[int, Field(ge=0, le=2**63 - 1)]
Until = Annotated[Position | Timestamp | None, Query(
    description="Last position (inclusive), or a recorded time (ISO-8601 with a timezone, inclusive).")]


STREAMED = {200: {"description": "The export file (docs/audit.md: Export)",
                   "content": {"application/x-ndjson": {}, "text/csv": {}}}}


@router.get("/v1/export", tags=["audit"], responses={**STREAMED, **documented(422)},
            response_class=StreamingResponse)
def get_export(engine: EngineDep, format: Annotated[Format, Query()] = "ndjson",
               after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0, until: Until = None,
               deal_id: Filter = None):
    """Events in position order, streamed. The cut is settled before the first byte, so a
    late commit below the last exported position is waited for, never skipped."""
    cut = export.settle(engine, export.ExportRange(after, until, deal_id))
    body = export_formats.encode(format, export.envelopes(engine, cut))
    disposition = f'attachment; filename="{export_formats.FILE_NAMES[format]}"'
    return StreamingResponse(body, media_type=export_formats.MEDIA_TYPES[format],
                             headers={"Content-Disposition": disposition})
