from sqlalchemy import text


def log_size(engine) -> tuple[int, int]:
    """(count, max position) of events.event: unchanged means nothing was written."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT count(*), coalesce(max(position), 0) FROM events.event")).one())


def post(client, deal_id, body, **headers):
    return client.post(f"/v1/deals/{deal_id}/events", json=body, headers=headers)


def assert_error(response, status: int, code: str) -> dict:
    """The response is the JSON error shape with this status and code; returns `error`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def assert_writes_nothing(engine, send, status: int, code: str) -> dict:
    """`send()` answers the error and events.event is unchanged."""
    before = log_size(engine)
    error = assert_error(send(), status, code)
    assert log_size(engine) == before
    return error


def a_reader_waits_for_older_transactions(engine) -> bool:
    """Some session is in events.log_reader's wait for older transactions to finish (the query
    it repeats there): a test commits its held transaction only once the reader waits on it."""
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_snapshot_xmin(pg_current_snapshot())%'")).scalar())


def lock_waits(engine) -> int:
    """Sessions of this database waiting for a lock (a row, a transaction, an advisory lock)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar()
