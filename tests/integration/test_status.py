"""`dealtrail status` judgements: a log with events no relay handles is DOWN (exit 1 from the
CLI), so is a broker nobody configured or runs, and the lag is counted."""
from services import status
from tests.integration.projection_helpers import History


def test_events_nobody_relays_make_the_relay_down(fresh_engine):
    History(fresh_engine).create("st1", 0)
    report = status.status(fresh_engine, None)
    assert report["database"]["ok"] is True and report["broker"]["ok"] is False
    assert report["relay"]["ok"] is False and report["relay"]["reason"] == "not running"
    assert report["relay"]["lag"]["events_behind"] >= 1 and report["worker"]["lag"]["events_behind"] >= 1
    assert report["ok"] is False
    text = status.lines(report)
    assert text[0].split()[:2] == ["database", "OK"] and text[1].split()[:2] == ["broker", "DOWN"]
    assert text[2].startswith("relay     DOWN  not running position 0,")


def test_an_api_that_does_not_answer_and_an_up_that_does_not_run_are_down(fresh_engine):
    from infra.embedded import free_port
    from services.readiness import Check
    url = f"http://127.0.0.1:{free_port()}"
    report = status.status(fresh_engine, None, api_url=url, up=Check(False, "not running on ./x"))
    assert report["api"] == {"ok": False, "reason": f"not answering on {url}"} and report["ok"] is False
    text = status.lines(report)
    assert [line.split()[:2] for line in text[:2]] == [["up", "DOWN"], ["api", "DOWN"]]
