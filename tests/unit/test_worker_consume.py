"""The worker's read of a poll (projections.runtime.worker._consumed): it waits for the first message
only, then takes what librdkafka has fetched already; a consumer that fails raises KafkaError
(the worker reconnects)."""
import pytest
from confluent_kafka import KafkaException
from kafka.errors import KafkaError

from projections.runtime.worker import MAX_POLL_RECORDS, _consumed


class _Consumer:
    def __init__(self, queued: list, fail: bool = False):
        self.queued, self.fail, self.calls = list(queued), fail, []

    def poll(self, timeout):
        self.calls.append(("poll", timeout))
        if self.fail:
            raise KafkaException("broker gone")
        return self.queued.pop(0) if self.queued else None

    def consume(self, n, timeout):
        self.calls.append(("consume", n, timeout))
        taken, self.queued = self.queued[:n], self.queued[n:]
        return taken


def test_waits_for_the_first_message_only():
    consumer = _Consumer(list(range(5)))
    assert _consumed(consumer) == [0, 1, 2, 3, 4]
    assert consumer.calls == [("poll", 0.2), ("consume", MAX_POLL_RECORDS - 1, 0)]  # no wait for a full poll


def test_nothing_there_is_an_empty_poll_and_a_full_one_is_capped():
    assert _consumed(_Consumer([])) == []
    assert len(_consumed(_Consumer(list(range(MAX_POLL_RECORDS + 10))))) == MAX_POLL_RECORDS


def test_a_failing_consumer_raises_kafka_error():
    with pytest.raises(KafkaError):
        _consumed(_Consumer([], fail=True))
