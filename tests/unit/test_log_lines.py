"""Log lines are written out in batches of whole lines, never lost at a flush, never reordered."""
import logging
import threading

import pytest

from services.logs import BatchedLines
from tests.waiting import until


class Writes:
    def __init__(self):
        self.writes: list[str] = []
        self.lock = threading.Lock()

    def write(self, text: str) -> None:
        with self.lock:
            self.writes.append(text)

    def flush(self) -> None:
        pass


@pytest.fixture
def logged():
    stream = Writes()
    handler = BatchedLines(stream, seconds=0.05, most=5)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"test.lines.{id(stream)}")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(handler)
    yield logger, handler, stream
    logger.removeHandler(handler)


def test_info_lines_go_out_together_on_the_timer(logged):
    logger, handler, stream = logged
    with handler.lock:  # the timer cannot write while the three lines go in
        for n in range(3):
            logger.info("line %d", n)
        assert stream.writes == []
    until(lambda: stream.writes)
    assert stream.writes == ["INFO line 0\nINFO line 1\nINFO line 2\n"]


def test_a_warning_goes_out_at_once_after_the_lines_before_it(logged):
    logger, handler, stream = logged
    with handler.lock:
        logger.info("before")
        logger.warning("trouble")
        assert stream.writes == ["INFO before\nWARNING trouble\n"]


def test_a_full_batch_goes_out_without_waiting_for_the_timer(logged):
    logger, handler, stream = logged
    with handler.lock:
        for n in range(5):
            logger.info("%d", n)
        assert stream.writes == ["".join(f"INFO {n}\n" for n in range(5))]


def test_flush_writes_what_is_waiting(logged):
    logger, handler, stream = logged
    with handler.lock:
        logger.info("last words")
    handler.flush()  # what logging.shutdown does at exit
    assert "".join(stream.writes) == "INFO last words\n"


def test_a_stream_that_cannot_be_written_never_raises_into_the_caller(logged, monkeypatch):
    logger, handler, stream = logged

    def closed(text):
        raise ValueError("I/O operation on closed file")
    monkeypatch.setattr(stream, "write", closed)
    monkeypatch.setattr(logging, "raiseExceptions", False)  # what handleError does in production
    logger.warning("nowhere to go")  # would raise ValueError without the handler's guard
