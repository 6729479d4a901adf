"""Write histories with explicit business times and project them like the worker does."""
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy import text

from events import store
from events.schema import event_adapter
from infra.settings import Settings
from projections import sales_projection as sales
from projections.runtime import checkpoints
from services.api.app import create_app
from services.appending import Command, append_events
from tests.keys import admin_headers

CTX = store.Context(actor="test", source="/test")
JAN = datetime(2026, 1, 1, tzinfo=timezone.utc)
DEMO_END = datetime(2026, 11, 1, tzinfo=timezone.utc)  # the demo tests' last business day


def day(n: float, base: datetime = JAN) -> str:
    return (base + timedelta(days=n)).isoformat()


class History:
    """Append events to one engine with business times given as days after Jan 1 2026."""

    def __init__(self, engine):
        self.engine = engine

    def post(self, deal_id: str, kind: str, at: float, **data):
        body = {"type": kind, "occurred_at": day(at), "data": data}
        [result] = append_events(self.engine, [Command(deal_id, event_adapter.validate_python(body))],
                                 CTX, currency="USD")
        return result.envelope

    def create(self, deal_id, at, owner="r1", team="t1", segment="smb", stage="lead", amount="1000"):
        return self.post(deal_id, "deal.created", at, title=deal_id, owner_id=owner, team_id=team,
                         customer={"id": f"c-{deal_id}", "name": deal_id, "segment": segment},
                         expected_amount=amount, currency="USD", stage=stage)

    def move(self, deal_id, at, frm, to):
        return self.post(deal_id, "deal.stage_moved", at, from_stage=frm, to_stage=to)

    def sign(self, deal_id, at, amount="1000"):
        return self.post(deal_id, "deal.signed", at, amount=amount, currency="USD")

    def lose(self, deal_id, at, reason="price"):
        return self.post(deal_id, "deal.lost", at, reason=reason)


def project_all(engine) -> None:
    """What the worker does, for every deal at once (one partition, 0)."""
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT deal_id, max(position) FROM events.event GROUP BY deal_id")).all()
        upto = dict(rows)
        sales.apply(conn, "read_models", upto)
        checkpoints.set_watermark(conn, sales.NAME, max(upto.values(), default=0))


def api(engine) -> TestClient:
    return TestClient(create_app(Settings(DATABASE_URL="unused"), engine=engine), headers=admin_headers(engine))
