"""Where a reader that starts at the log's head begins (events.log_head): after the last
position with nothing in flight below it, sending later only what was not visible then, so a
transaction that took a position below the head and commits later is not lost."""
from events.log_head import Opening, head_position, opening
from events.log_reader import read_committed
from tests import factories as f
from tests.integration.relay_helpers import append, contacts_in_open_transaction


def test_a_quiet_log_opens_at_its_head(fresh_engine):
    append(fresh_engine, "a", f.created())
    last = append(fresh_engine, "a", f.contact())
    assert head_position(fresh_engine) == last.position
    assert opening(fresh_engine) == Opening(last.position)


def test_a_late_commit_below_the_head_is_still_sent(fresh_engine):
    append(fresh_engine, "a", f.created())
    before = append(fresh_engine, "b", f.created())
    with fresh_engine.connect() as slow:
        [late] = contacts_in_open_transaction(slow, ["a"])  # takes a position, not committed
        visible = append(fresh_engine, "b", f.contact())     # above it, committed
        opened = opening(fresh_engine)
        slow.commit()
    after = append(fresh_engine, "b", f.contact())
    assert opened.after == before.position and opened.seen == ((visible.position, visible.position),)
    page = read_committed(fresh_engine, opened.after, 100)
    sent = [e.position for e in page.envelopes if opened.unseen(e.position)]
    assert sent == [late.position, after.position]  # not `visible`: it was there when the reader opened
