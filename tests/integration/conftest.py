import pytest
from fastapi.testclient import TestClient

from infra.embedded import EmbeddedBroker
from infra.settings import Settings
from services.api.app import create_app
from tests.keys import admin_headers


@pytest.fixture(scope="session")
def client(engine, db_url):
    app = create_app(Settings(DATABASE_URL=db_url), engine=engine)
    with TestClient(app, headers=admin_headers(engine)) as c:
        yield c


@pytest.fixture()
def broker():
    """A broker of the test's own (it can be killed and restarted empty)."""
    b = EmbeddedBroker()
    b.start()
    yield b
    b.stop()
