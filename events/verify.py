"""Hash-chain verification: recompute every stream's chain and name the first broken event.
Reads with a server-side cursor, so memory stays flat however long the log is."""
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from events.canonical import GENESIS_HASH
from events.envelope import Envelope, envelope_from_row
from events.tables import ENVELOPE_COLUMNS, event, stream_head


@dataclass
class Verification:
    ok: bool = True
    events_checked: int = 0
    streams_checked: int = 0
    first_broken: dict | None = None
    problems: list[dict] = field(default_factory=list)

    def fail(self, env_or_stream: Envelope | str, reason: str) -> None:
        if isinstance(env_or_stream, Envelope):
            where = {"deal_id": env_or_stream.deal_id, "event_id": env_or_stream.event_id,
                     "stream_version": env_or_stream.stream_version, "position": env_or_stream.position}
        else:
            where = {"deal_id": env_or_stream}
        problem = {**where, "reason": reason}
        if self.ok:
            self.first_broken = problem
        self.ok = False
        if len(self.problems) < 100:
            self.problems.append(problem)


def verify_chains(engine: Engine, chunk: int = 5000) -> Verification:
    result = Verification()
    tips: dict[str, tuple[int, str]] = {}
    query = select(*ENVELOPE_COLUMNS).order_by(event.c.deal_id, event.c.stream_version)
    with engine.connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=chunk).execute(query).mappings()
        last_deal, version, prev = None, 0, GENESIS_HASH
        for row in rows:
            env = envelope_from_row(row)
            if env.deal_id != last_deal:
                if last_deal is not None:
                    tips[last_deal] = (version, prev)
                last_deal, version, prev = env.deal_id, 0, GENESIS_HASH
                result.streams_checked += 1
            _check(result, env, version, prev)
            version, prev = env.stream_version, env.hash
            result.events_checked += 1
        if last_deal is not None:
            tips[last_deal] = (version, prev)
        _check_heads(conn, result, tips)
    return result


def _check(result: Verification, env: Envelope, version: int, prev: str) -> None:
    if env.stream_version != version + 1:
        result.fail(env, f"stream_version {env.stream_version} follows {version}")
    elif env.prev_hash != prev:
        result.fail(env, "prev_hash does not match the previous event's hash")
    elif env.computed_hash() != env.hash:
        result.fail(env, "hash does not match the event's content")


def _check_heads(conn, result: Verification, tips: dict[str, tuple[int, str]]) -> None:
    """A deleted last event leaves the chain intact but the stream head ahead of it."""
    heads = conn.execute(select(stream_head.c.deal_id, stream_head.c.version, stream_head.c.last_hash)
                         .where(stream_head.c.version > 0))
    for deal_id, version, last_hash in heads:
        if tips.get(deal_id, (0, GENESIS_HASH)) != (version, last_hash):
            result.fail(deal_id, f"stream head is at version {version} but the log ends at "
                                 f"version {tips.get(deal_id, (0,))[0]}")
