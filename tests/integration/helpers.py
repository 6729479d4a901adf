from sqlalchemy import text


def log_size(engine) -> tuple[int, int]:
    """(count, max position) of events.event: unchanged means nothing was written."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT count(*), coalesce(max(position), 0) FROM events.event")).one())


def post(client, deal_id, body, **headers):
    return client.post(f"/v1/deals/{deal_id}/events", json=body, headers=headers)
