"""A rebuild derives with the cyclic collector off, and leaves it as it found it, failing or not."""
import gc

import pytest

from projections import sales_rebuild as rebuild


def test_collector_off_while_deriving_and_back_on_after(monkeypatch):
    seen = []
    monkeypatch.setattr(rebuild, "_derive_chunks", lambda *args: seen.append(gc.isenabled()))
    assert gc.isenabled()
    rebuild._derive_all(None, "s", iter([]), {}, lambda n: None)
    assert seen == [False] and gc.isenabled()


def test_collector_back_on_when_deriving_fails(monkeypatch):
    def fail(*args):
        raise RuntimeError("boom")
    monkeypatch.setattr(rebuild, "_derive_chunks", fail)
    with pytest.raises(RuntimeError):
        rebuild._derive_all(None, "s", iter([]), {}, lambda n: None)
    assert gc.isenabled()


def test_collector_left_off_if_it_was_off(monkeypatch):
    monkeypatch.setattr(rebuild, "_derive_chunks", lambda *args: None)
    gc.disable()
    try:
        rebuild._derive_all(None, "s", iter([]), {}, lambda n: None)
        assert not gc.isenabled()
    finally:
        gc.enable()
