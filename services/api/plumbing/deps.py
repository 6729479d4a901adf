"""Request dependencies: the engine, settings, the calling principal (auth seam) and where a
write comes from (its `Origin`). They are `async` because they never block: sync dependencies
would each cost a thread hop."""
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Engine

from events import store
from infra.settings import Settings
from services.api.plumbing.correlation import PRINTABLE, correlation_id
from services.group_commit import GroupCommitter
from services.origins import check_source
from services.ownership import WriterScope


@dataclass(frozen=True)
class Principal:
    """The caller: its key's name is the `actor` of what it appends; `owner_id` binds a writer."""
    actor: str
    source: str = "/v1/api"
    role: str | None = None
    owner_id: str | None = None
    key_id: str | None = None


@dataclass(frozen=True)
class Origin:
    """Who and where an append comes from, and what caused it (request headers, validated)."""
    context: store.Context
    causation_id: str | None = None
    writer: WriterScope | None = None  # set for writer keys: what they may append to


# Headers that are stored on events: printable ASCII, at most 200 characters (else 422).
TraceHeader = Annotated[str | None, Header(pattern=PRINTABLE, description="Printable ASCII, 1-200 characters.")]
SourceHeader = Annotated[str | None, Header(pattern=PRINTABLE, description=(
    "Printable ASCII, 1-200 characters; not one of the system's own sources (`/bootstrap`, `/watch`, "
    "`import:*`: 422 `reserved_source`)."))]


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_principal(request: Request) -> Principal:
    """Authenticated once per request (the access guard and the handlers share it)."""
    principal = getattr(request.state, "principal", None)
    if principal is None and (error := getattr(request.state, "principal_error", None)) is not None:
        raise error  # the append route's fast path asked already (services.api.plumbing.append_route)
    if principal is None:
        principal = request.state.principal = await request.app.state.authenticate(request)
    return principal


async def get_appender(request: Request) -> GroupCommitter:
    return appender_of(request.app.state)


def appender_of(state) -> GroupCommitter:
    """The process's group committer; made on first use when the app runs without its lifespan."""
    if getattr(state, "appender", None) is None:
        state.appender = make_appender(state.engine, state.settings)
    return state.appender


def make_appender(engine: Engine, settings: Settings) -> GroupCommitter:
    return GroupCommitter(engine, settings.currency, max_group=settings.group_commit_max,
                          flushers=settings.group_commit_flushers)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def context_of(principal: Principal, source: str | None, correlation: str) -> store.Context:
    """Who appends (the key's name and id) and from where: the client's `X-Dealtrail-Source`,
    unless it claims the system's own (ReservedSource, 422). Both front doors of an append (this
    route's dependency and its fast path, services.api.plumbing.append_route) build it here."""
    check_source(source)
    return store.Context(actor=principal.actor, source=source or principal.source,
                         correlation_id=correlation, key_id=principal.key_id)


async def get_origin(request: Request, principal: PrincipalDep, x_dealtrail_source: SourceHeader = None,
                     x_correlation_id: TraceHeader = None, x_causation_id: TraceHeader = None) -> Origin:
    context = context_of(principal, x_dealtrail_source, x_correlation_id or correlation_id(request.scope))
    writer = WriterScope(principal.owner_id) if principal.role == "writer" else None
    return Origin(context=context, causation_id=x_causation_id, writer=writer)


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
OriginDep = Annotated[Origin, Depends(get_origin)]
AppenderDep = Annotated[GroupCommitter, Depends(get_appender)]
