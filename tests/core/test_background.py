"""Figures computed in the background: once per key however many sessions ask, the value
returned once known within the wait, a failure remembered rather than retried on every
click, only the newest keys kept; warming a value, waiting for it, and computing it afresh."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import pytest

from db.core.background import Computed


def _held(value: str) -> tuple[threading.Event, list[str], Callable[[], str]]:
    """A computation that returns ``value`` once the event is set, and the list of its runs."""
    release = threading.Event()
    calls: list[str] = []

    def slow() -> str:
        calls.append("run")
        release.wait(10)
        return value

    return release, calls, slow


def test_many_askers_one_computation_and_the_value_once_known() -> None:
    release, calls, slow = _held("figures")
    computed: Computed[str] = Computed("test")
    assert computed.get("v1", slow, wait_s=0) == (False, None)
    assert computed.get("v1", slow, wait_s=0.05) == (False, None)  # still running
    assert computed.running("v1")
    release.set()
    assert computed.get("v1", slow, wait_s=10) == (True, "figures")
    assert computed.get("v1", slow, wait_s=0) == (True, "figures")
    assert calls == ["run"] and not computed.running("v1")


def test_a_failure_is_remembered_not_retried_until_forgotten() -> None:
    calls: list[int] = []

    def broken() -> int:
        calls.append(1)
        raise RuntimeError("database gone")

    computed: Computed[int] = Computed("test")
    assert computed.get("v1", broken, wait_s=10) == (False, None)
    assert computed.failed("v1")
    assert computed.get("v1", broken, wait_s=10) == (False, None)
    assert calls == [1]
    computed.forget()
    assert not computed.failed("v1")
    assert computed.get("v1", lambda: 7, wait_s=10) == (True, 7)


def test_only_the_newest_keys_are_kept() -> None:
    computed: Computed[int] = Computed("test", keep=2)
    for version in (1, 2, 3):
        assert computed.get(version, lambda: 10, wait_s=10) == (True, 10)
    assert computed.get(3, lambda: -1, wait_s=10) == (True, 10)
    assert computed.get(1, lambda: -1, wait_s=10) == (True, -1)  # dropped, so computed again


def test_value_waits_for_the_computation_under_way_and_a_failed_one_raises_to_the_caller(
) -> None:
    release, calls, slow = _held("counted")
    computed: Computed[str] = Computed("test")
    computed.start("v1", slow)  # warming before anyone asks
    timer = threading.Timer(0.2, release.set)
    timer.start()
    assert computed.value("v1", slow) == "counted"  # waited for it, did not count again
    assert calls == ["run"]

    def broken() -> str:
        raise RuntimeError("database gone")

    assert computed.get("v2", broken, wait_s=10) == (False, None)
    with pytest.raises(RuntimeError, match="database gone"):  # the caller sees why
        computed.value("v2", broken)
    assert computed.value("v2", lambda: "now it works") == "now it works"
    assert not computed.failed("v2") and computed.get("v2", broken, wait_s=0) == (True,
                                                                                "now it works")


def test_start_again_recomputes_a_known_value_and_clears_a_failure() -> None:
    runs = iter(["first", "second"])
    computed: Computed[str] = Computed("test")
    computed.start("db", lambda: next(runs))
    assert computed.wait("db", 10)
    computed.start("db", lambda: "never")  # known: warming it again does nothing
    assert computed.wait("db", 10) and computed.get("db", str, wait_s=0) == (True, "first")
    computed.start("db", lambda: next(runs), again=True)
    assert computed.wait("db", 10) and computed.get("db", str, wait_s=0) == (True, "second")

    def broken() -> str:
        raise RuntimeError("disk full")

    computed.start("db", broken, again=True)
    assert computed.wait("db", 10) and computed.failed("db")
    computed.start("db", lambda: "third", again=True)  # asking again clears the failure
    assert computed.wait("db", 10) and not computed.failed("db")
    assert computed.get("db", str, wait_s=0) == (True, "third")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's nice is Linux's")
def test_a_low_priority_computation_lowers_its_own_thread_only() -> None:
    def own_nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    server = own_nice()
    low: Computed[int] = Computed("test", nice=19)
    normal: Computed[int] = Computed("test")
    assert low.value("v1", own_nice) == 19
    assert normal.value("v1", own_nice) == server
    assert own_nice() == server  # the thread that asked keeps its priority


def test_values_warmed_in_turn_run_one_after_another_in_one_thread() -> None:
    first_release, first_calls, first = _held("first")
    threads: list[int] = []
    started = {key: threading.Event() for key in "bc"}

    def next_one(key: str) -> Callable[[], str]:
        def compute() -> str:
            threads.append(threading.get_ident())
            started[key].set()
            return key * 2
        return compute

    computed: Computed[str] = Computed("test")
    computed.start_in_turn([("a", first), ("b", next_one("b")), ("c", next_one("c"))])
    assert not started["b"].wait(0.2)  # waits for the first, not beside it
    assert computed.running("a") and not computed.running("b")
    first_release.set()
    assert started["c"].wait(10) and computed.wait("c", 10)
    assert all(computed.known(key) for key in "abc")
    assert [computed.get(key, str, wait_s=0) for key in "abc"] == [
        (True, "first"), (True, "bb"), (True, "cc")]
    assert first_calls == ["run"] and len(set(threads)) == 1


def test_a_value_asked_for_before_its_turn_is_computed_once_by_the_asker() -> None:
    release, _, slow = _held("first")
    calls: list[str] = []

    def counted() -> str:
        calls.append(threading.current_thread().name)
        return "second"

    computed: Computed[str] = Computed("test")
    computed.start_in_turn([("a", slow), ("b", counted)])
    assert computed.value("b", counted) == "second"  # not made to wait for "a"
    release.set()
    assert computed.wait("a", 10)
    assert computed.get("b", str, wait_s=0) == (True, "second") and len(calls) == 1


def test_forget_stops_the_values_in_turn_and_keeps_none_started_before() -> None:
    release, _, slow = _held("old")
    computed: Computed[str] = Computed("test")
    later: list[str] = []
    computed.start_in_turn([("a", slow), ("b", lambda: later.append("b") or "b")])
    assert not computed.wait("a", 0.1)
    threading.Timer(0.2, release.set).start()
    computed.forget()  # waits for "a", and drops it
    assert computed.get("a", lambda: "new", wait_s=10) == (True, "new")
    assert not computed.running("b") and computed.get("b", lambda: "asked", wait_s=10) == (
        True, "asked")
    assert later == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's nice is Linux's")
def test_values_in_turn_run_at_the_priority_asked_for() -> None:
    def own_nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    computed: Computed[int] = Computed("test")
    computed.start_in_turn([("a", own_nice), ("b", own_nice)], nice=19)
    assert computed.wait("a", 10) and computed.wait("b", 10)
    assert computed.get("a", own_nice, wait_s=0) == (True, 19)
    assert computed.get("b", own_nice, wait_s=0) == (True, 19)


def test_values_in_turn_wait_for_the_value_under_way_they_follow() -> None:
    release, _, slow = _held("first view")
    started = threading.Event()

    def segment() -> str:
        started.set()
        return "segment"

    computed: Computed[str] = Computed("test")
    computed.start("view", slow)
    computed.start_in_turn([("segment", segment)], after="view")
    assert not started.wait(0.2)  # not beside the value asked for sooner
    release.set()
    assert started.wait(10) and computed.wait("segment", 10)
    assert computed.get("segment", str, wait_s=0) == (True, "segment")
    computed.start_in_turn([("other", lambda: "at once")], after="nothing under way")
    deadline = time.monotonic() + 10
    while not computed.known("other"):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_page_waits_a_moment_from_the_computations_start_not_from_its_own_ask() -> None:
    release, _, slow = _held("outlook")
    computed: Computed[str] = Computed("test")
    computed.start("v1", slow)  # warmed at sign-in
    time.sleep(1.0)  # the user reads home, then opens the page
    asked = time.monotonic()
    assert computed.get("v1", slow, wait_s=1.2) == (False, None)
    # Running for a second already: a slow one, so the page shows the rest now.
    assert time.monotonic() - asked < 0.9
    release.set()
    assert computed.get("v1", slow, wait_s=10) == (True, "outlook")
