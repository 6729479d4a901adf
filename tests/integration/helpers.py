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
