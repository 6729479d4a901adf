"""Request dependencies: the engine, settings, the calling principal (auth seam) and where a
write comes from (its `Origin`). They are `async` because they never block: sync dependencies
would each cost a thread hop."""
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Engine

from events import store
from infra.settings import Settings
from services.api.correlation import PRINTABLE, correlation_id


@dataclass(frozen=True)
class Principal:
    actor: str
    source: str = "/v1/api"


@dataclass(frozen=True)
class Origin:
    """Who and where an append comes from, and what caused it (request headers, validated)."""
    context: store.Context
    causation_id: str | None = None


# Headers that are stored on events: printable ASCII, at most 200 characters (else 422).
TraceHeader = Annotated[str | None, Header(pattern=PRINTABLE, description="Printable ASCII, 1-200 characters.")]


async def anonymous(request: Request) -> Principal:
    """Until API keys land every caller is `anonymous`; replace app.state.authenticate then."""
    return Principal(actor="anonymous")


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_principal(request: Request) -> Principal:
    return await request.app.state.authenticate(request)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_origin(request: Request, principal: PrincipalDep, x_dealtrail_source: TraceHeader = None,
                     x_correlation_id: TraceHeader = None, x_causation_id: TraceHeader = None) -> Origin:
    context = store.Context(actor=principal.actor, source=x_dealtrail_source or principal.source,
                            correlation_id=x_correlation_id or correlation_id(request.scope))
    return Origin(context=context, causation_id=x_causation_id)


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
OriginDep = Annotated[Origin, Depends(get_origin)]
