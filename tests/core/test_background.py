"""Figures computed in the background: once per key however many sessions ask, the value
returned once known within the wait, a failure remembered rather than retried on every
click, and only the newest keys kept."""

from __future__ import annotations

import threading

from db.core.background import Computed


def test_many_askers_one_computation_and_the_value_once_known() -> None:
    release = threading.Event()
    calls: list[str] = []

    def slow() -> str:
        calls.append("run")
        release.wait(10)
        return "figures"

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
