"""`dealtrail status` judgements: a log with events no relay handles is DOWN (exit 1 from the
CLI), an unknown broker is not judged, and the lag is counted."""
from services import status
from tests.integration.projection_helpers import History


def test_events_nobody_relays_make_the_relay_down(fresh_engine):
    History(fresh_engine).create("st1", 0)
    report = status.status(fresh_engine, None)
    assert report["database"]["ok"] is True and report["broker"]["ok"] is None
    assert report["relay"]["ok"] is False and report["relay"]["reason"] == "not running"
    assert report["relay"]["lag"]["events_behind"] >= 1 and report["worker"]["lag"]["events_behind"] >= 1
    assert report["ok"] is False
    text = status.lines(report)
    assert text[0].split()[:2] == ["database", "OK"] and text[1].split()[:2] == ["broker", "?"]
    assert text[2].startswith("relay     DOWN  not running position 0,")
