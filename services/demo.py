"""`dealtrail demo`: a realistic, seeded sales organisation posted through the batch API.

Teams and reps, segments with their deal sizes, deals flowing through the stages with
per-stage conversion and dwell times, contacts, quotes, signings, losses with reasons, a
few skips, regressions, reopens, owner changes, back-dated contacts and voids. The same
seed and end date give the same events (event ids included, so re-posting is idempotent)."""
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

from domain.pipelines import DEFAULT_PIPELINE

STAGES = DEFAULT_PIPELINE.keys
ADVANCE = {"lead": 0.75, "contacted": 0.7, "needs_analysis": 0.65, "proposal": 0.6, "negotiation": 0.62}
DWELL_DAYS = {"lead": 3, "contacted": 5, "needs_analysis": 8, "proposal": 10, "negotiation": 12}
SEGMENTS = {"smb": (2_000, 15_000), "mid_market": (15_000, 60_000), "enterprise": (60_000, 400_000)}
REGIONS = ("emea", "amer", "apac")
LOSS_REASONS = ("price", "competitor", "no_decision", "timing", "fit", "other")
CHANNELS = ("call", "email", "meeting", "visit", "chat")


class Org:
    def __init__(self, rng: random.Random, teams: int = 4):
        self.reps = [(f"rep-{t + 1}-{r + 1}", f"team-{t + 1}") for t in range(teams)
                     for r in range(rng.randint(4, 6))]


class DealScript:
    """The events of one deal, in the order they are recorded."""

    def __init__(self, rng: random.Random, org: Org, number: int, end: datetime):
        self.rng, self.end = rng, end
        self.deal_id = f"demo-{number:06d}"
        self.events: list[dict] = []
        self.pending_late: list[dict] = []
        self.owner, self.team = rng.choice(org.reps)
        self.org = org

    def emit(self, kind: str, at: datetime, data: dict, late: bool = False) -> dict | None:
        if at > self.end:
            return None
        body = {"deal_id": self.deal_id, "event_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                "type": kind, "occurred_at": at.isoformat(), "data": data}
        if late:  # recorded after the next event, though it happened before it
            self.pending_late.append(body)
            return body
        closing = kind in ("deal.signed", "deal.lost")
        if closing:  # a closed deal takes no more contacts: record the late ones first
            self.flush_late()
        self.events.append(body)
        if not closing:
            self.flush_late()
        return body

    def flush_late(self) -> None:
        self.events += self.pending_late
        self.pending_late = []

    def run(self) -> list[dict]:
        rng = self.rng
        segment = rng.choices(list(SEGMENTS), weights=(6, 3, 1))[0]
        low, high = SEGMENTS[segment]
        amount = round(rng.uniform(low, high), -2)
        at = self.end - timedelta(days=rng.uniform(3, 365))
        self.emit("deal.created", at, {
            "title": f"{segment.replace('_', ' ').title()} deal {self.deal_id[-6:]}",
            "customer": {"id": f"cust-{rng.randint(1, 9999):04d}", "name": f"Customer {rng.randint(1, 9999)}",
                         "segment": segment, "region": rng.choice(REGIONS)},
            "owner_id": self.owner, "team_id": self.team, "expected_amount": f"{amount:.2f}",
            "currency": "USD", "source_channel": rng.choice(("inbound", "outbound", "partner", "event"))})
        self.walk(at, amount)
        self.flush_late()
        return self.events

    def walk(self, at: datetime, amount: float) -> None:
        rng, index = self.rng, 0
        while True:
            stage = STAGES[index]
            at = self.contacts(stage, at)
            if at > self.end:
                return
            if stage in ("proposal", "negotiation"):
                amount = round(amount * rng.uniform(0.85, 1.1), -1)
                self.emit("deal.quote_issued", at, {"quote_id": f"Q-{self.deal_id[-6:]}-{index}",
                                                    "amount": f"{amount:.2f}", "currency": "USD"})
            if rng.random() < 0.03:
                self.change_owner(at)
            if rng.random() > ADVANCE[stage]:
                if rng.random() < 0.8:
                    at = self.lose(at)
                    if at is not None and rng.random() < 0.08:
                        at = self.reopen(at, index)
                        if at is not None:
                            continue
                return
            nxt = self.next_index(index)
            if nxt >= len(STAGES):
                self.win(at, amount)
                return
            self.emit("deal.stage_moved", at, {"from_stage": stage, "to_stage": STAGES[nxt]})
            index = nxt

    def next_index(self, index: int) -> int:
        roll = self.rng.random()
        if roll < 0.05 and index + 2 < len(STAGES):
            return index + 2  # skip
        if roll < 0.09 and index > 0:
            return index - 1  # regression
        return index + 1

    def contacts(self, stage: str, at: datetime) -> datetime:
        rng = self.rng
        dwell = rng.expovariate(1 / DWELL_DAYS[stage])
        for _ in range(rng.randint(1, 3)):
            when = at + timedelta(days=rng.uniform(0, dwell))
            late = rng.random() < 0.05  # logged after later events: back-dated
            body = self.emit("deal.contact_logged", when, {"channel": rng.choice(CHANNELS),
                                                           "summary": f"{stage} follow-up"}, late=late)
            if body and not late and rng.random() < 0.01:
                self.emit("event.voided", when + timedelta(hours=1),
                          {"event_id": body["event_id"], "reason": "logged on the wrong deal"})
        return at + timedelta(days=dwell)

    def change_owner(self, at: datetime) -> None:
        self.owner, self.team = self.rng.choice(self.org.reps)
        self.emit("deal.owner_changed", at, {"owner_id": self.owner, "team_id": self.team})

    def lose(self, at: datetime) -> datetime | None:
        body = self.emit("deal.lost", at, {"reason": self.rng.choices(LOSS_REASONS, weights=(5, 4, 4, 3, 2, 1))[0]})
        return at if body else None

    def reopen(self, at: datetime, index: int) -> datetime | None:
        at += timedelta(days=self.rng.uniform(10, 60))
        body = self.emit("deal.reopened", at, {"to_stage": STAGES[index], "reason": "customer came back"})
        return at if body else None

    def win(self, at: datetime, amount: float) -> None:
        signed = round(amount * self.rng.uniform(0.9, 1.0), -1)
        self.emit("deal.signed", at, {"amount": f"{signed:.2f}", "currency": "USD",
                                      "contract_id": f"K-{self.deal_id[-6:]}"})
        if self.rng.random() < 0.4:
            self.emit("deal.feedback_recorded", at + timedelta(days=self.rng.uniform(5, 30)),
                      {"score": self.rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 3, 6, 5))[0], "from": "customer"})


def generate(deals: int, seed: int, end: datetime) -> Iterator[dict]:
    """Batch items ({deal_id, event_id, type, occurred_at, data}), each deal in recorded order."""
    rng = random.Random(seed)
    org = Org(rng)
    for number in range(1, deals + 1):
        yield from DealScript(random.Random(rng.getrandbits(64)), org, number, end).run()
