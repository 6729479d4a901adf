"""Request dependencies: the engine, settings and the calling principal (auth seam).
They are `async` because they never block: sync dependencies would each cost a thread hop."""
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from infra.settings import Settings


@dataclass(frozen=True)
class Principal:
    actor: str
    source: str = "/v1/api"


async def anonymous(request: Request) -> Principal:
    """Until API keys land every caller is `anonymous`; replace app.state.authenticate then."""
    return Principal(actor="anonymous", source=request.headers.get("x-dealtrail-source", "/v1/api"))


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_principal(request: Request) -> Principal:
    return await request.app.state.authenticate(request)


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
