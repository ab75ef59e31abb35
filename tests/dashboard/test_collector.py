"""Freezing the imported modules' objects: a collection after a run no longer walks them,
it freezes again only after new imports, and garbage of later runs is still collected."""

from __future__ import annotations

import gc
import sys
import threading
import types
import weakref
from collections.abc import Iterator

import pytest

from dashboard import collector


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    """Unfrozen, and with no import under way: an earlier page test of this process may
    have started warming the pages' imports (dashboard/warmup.py)."""
    for thread in threading.enumerate():
        if thread.name == "warm-up-imports":
            thread.join()
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_freezes_once_per_import_and_later_garbage_is_collected(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "_frozen_with", 0)
    assert collector.freeze_imports()
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # the test run's imports
    assert not collector.freeze_imports()  # nothing imported since
    monkeypatch.setitem(sys.modules, "a_page_opened_later", types.ModuleType("later"))
    assert collector.freeze_imports()
    cycle = _Cycle()
    gone = weakref.ref(cycle)
    del cycle
    gc.collect(2)
    assert gone() is None  # a run's cyclic garbage after the freeze is still freed
