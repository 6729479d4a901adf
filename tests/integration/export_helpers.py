"""Shared by the export tests: a small log on a fresh database and an app serving it."""
import contextlib

from fastapi.testclient import TestClient

from events.schema import event_adapter
from infra.settings import Settings
from services.api.app import create_app
from services.appending import Command, append_events
from tests import factories as f
from tests.integration.relay_helpers import CTX, append
from tests.keys import admin_headers


def small_log(engine) -> None:
    """Two deals, interleaved; positions 2.. (1 is the default pipeline)."""
    for deal in ("a", "b"):
        append(engine, deal, f.created())
    for deal in ("a", "b", "a"):
        append(engine, deal, f.contact())


def many_contacts(engine, deals: int, per_deal: int) -> None:
    names = [f"m{i}" for i in range(deals)]
    for deal in names:
        append(engine, deal, f.created())
    commands = [Command(d, event_adapter.validate_python(f.contact())) for _ in range(per_deal) for d in names]
    append_events(engine, commands, CTX, currency="USD", batch=True)


@contextlib.contextmanager
def client_for(engine, **settings):
    with TestClient(create_app(Settings(**settings), engine=engine), headers=admin_headers(engine)) as c:
        yield c
