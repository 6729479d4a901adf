"""Migration 0016 computes the sums from the existing deal-level rows: after a round trip
through 0015 (where funnel_daily and the performance tables are tables again) the views show
the rows the tables held, and the sums equal a recompute."""
from alembic import command
from sqlalchemy import text

from infra.db import make_engine
from infra.migrate import alembic_config, upgrade
from projections.tables.groups import AGGREGATE_VIEWS
from tests.conftest import APP_ROLE
from tests.integration.aggregate_helpers import DEFINITIONS, check
from tests.integration.aggregate_helpers import rows as _rows
from tests.integration.projection_helpers import History, project_all


def _views(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {v: _rows(conn, f"SELECT * FROM read_models.{v}") for v in AGGREGATE_VIEWS}


def test_0016_converts_the_existing_rows(databases):
    url = databases.fresh()
    engine = make_engine(databases.app_url(url), app_role=APP_ROLE, pool_size=2)
    history = History(engine)
    for n, owner in enumerate(("r1", "r2", "r1")):
        deal = f"m{n}"
        history.create(deal, n * 20, owner=owner, team=f"t{n % 2}")
        history.move(deal, n * 20 + 3, "lead", "contacted")
        history.post(deal, "deal.feedback_recorded", n * 20 + 4, score=4)
        if n == 1:
            history.lose(deal, 50)
        else:
            history.sign(deal, n * 20 + 40 + n, amount="1200.50")
    project_all(engine)
    before = _views(engine)
    assert all(before.values())
    with engine.connect() as conn:
        assert before["funnel_daily"] == _rows(conn, DEFINITIONS["funnel_daily"])
    engine.dispose()

    owner = make_engine(url, pool_size=1)
    with owner.begin() as conn:
        command.downgrade(_config(url, conn), "0015")
    with owner.connect() as conn:
        kinds = dict(conn.execute(text("SELECT relname, relkind FROM pg_class WHERE relname = ANY(:n)"),
                                  {"n": list(AGGREGATE_VIEWS)}).all())
    assert set(kinds.values()) == {"r"}  # tables again, holding the rows the views showed
    assert _views(owner) == before
    owner.dispose()

    upgrade(url)
    engine = make_engine(databases.app_url(url), app_role=APP_ROLE, pool_size=2)
    assert _views(engine) == before
    check(engine)
    engine.dispose()


def _config(url: str, conn):
    cfg = alembic_config(url)
    cfg.attributes["connection"] = conn
    return cfg
