"""Figures that take seconds, computed once per key in a background thread and shared by
every session of the server process.

Why: a page must settle in under a second, but some figures over a million customers take
seconds (the KPI page's predictions outlook). A page asks for the figure of its key (a data
version: it changes with every write of the data the figure shows); when it is not known yet
the computation starts in the background, the page waits a moment (:data:`PAGE_WAIT_S`: a
small database's figure is done by then), and otherwise shows the rest and fills the figure
in when done. Only the newest values are kept (:attr:`Computed.keep` keys).

A figure that no click waits for when it is started (warmed at sign-in for a page the user
may open later) can run at the lowest CPU priority (:attr:`Computed.nice`), so that its SQL
(run outside the GIL) takes only the CPU the server and the browser leave. On two cores, with
the KPI figures, the outlook and the count of every customer started at a million-customer
sign-in, the first one after a restart settled in 1.5–2.6 s; with the last two at nice 19 in
1.6–2.2 s; with all three in 1.3–1.9 s, but then the KPI page waited on a slowed thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

_LOG = logging.getLogger(__name__)
PAGE_WAIT_S = 0.5  # how long a page waits for a figure before it shows what it has

V = TypeVar("V")


class Computed(Generic[V]):
    """Values by key, each computed once in a background thread (see the module)."""

    def __init__(self, name: str, *, keep: int = 4, nice: int = 0) -> None:
        self.name = name
        self.keep = keep
        self.nice = nice  # the nice value its threads run at (Linux; 19: the lowest priority)
        self._values: dict[Hashable, V] = {}
        self._running: dict[Hashable, threading.Thread] = {}
        self._failed: set[Hashable] = set()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V], *,
            wait_s: float | None = None) -> tuple[bool, V | None]:
        """(True, value) when the value of ``key`` is known, within ``wait_s`` (default
        :data:`PAGE_WAIT_S`) of starting its computation; else (False, None) while it runs.
        A computation that failed is not started again for the key (see :meth:`failed`)."""
        with self._lock:
            if key in self._values:
                return True, self._values[key]
            thread = self._under_way(key, compute)
        if thread is not None:
            thread.join(PAGE_WAIT_S if wait_s is None else wait_s)
        with self._lock:
            return (True, self._values[key]) if key in self._values else (False, None)

    def value(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value of ``key``, waiting for its computation however long it takes (a
        caller that cannot show anything without it). When the background computation
        failed, the caller computes it itself, so that it is the one that sees why."""
        with self._lock:
            if key in self._values:
                return self._values[key]
            thread = self._under_way(key, compute)
        if thread is not None:
            thread.join()
        with self._lock:
            if key in self._values:
                return self._values[key]
        value = compute()
        with self._lock:
            self._failed.discard(key)
            self._keep(key, value)
        return value

    def start(self, key: Hashable, compute: Callable[[], V], *, again: bool = False) -> None:
        """Start computing the value of ``key`` unless that is under way or, without
        ``again``, the value is known: warming a value before anyone asks, or computing it
        afresh (``again``) when what it describes may have changed. A failure is
        forgotten: this is the user's or the page's asking again."""
        with self._lock:
            if key in self._running or (key in self._values and not again):
                return
            self._failed.discard(key)
            self._start(key, compute)

    def wait(self, key: Hashable, seconds: float | None = None) -> bool:
        """Wait up to ``seconds`` (default :data:`PAGE_WAIT_S`) for the computation of
        ``key`` under way; whether none is under way now."""
        with self._lock:
            thread = self._running.get(key)
        if thread is not None:
            thread.join(PAGE_WAIT_S if seconds is None else seconds)
        return not self.running(key)

    def running(self, key: Hashable) -> bool:
        """Whether the value of ``key`` is being computed."""
        with self._lock:
            return key in self._running

    def failed(self, key: Hashable) -> bool:
        """Whether computing the value of ``key`` failed (the server's log says why)."""
        with self._lock:
            return key in self._failed

    def forget(self) -> None:
        """Wait for the computations under way, then drop every value and failure (a
        database emptied or restored can reach a key seen before: tests, a restore)."""
        with self._lock:
            threads = list(self._running.values())
        for thread in threads:
            thread.join()
        with self._lock:
            self._values.clear()
            self._failed.clear()

    def _under_way(self, key: Hashable, compute: Callable[[], V]) -> threading.Thread | None:
        """The computation of ``key`` under way, started now unless it failed before; the
        caller holds the lock."""
        thread = self._running.get(key)
        if thread is None and key not in self._failed:
            thread = self._start(key, compute)
        return thread

    def _start(self, key: Hashable, compute: Callable[[], V]) -> threading.Thread:
        """Start the computation of ``key``; the caller holds the lock."""
        thread = threading.Thread(target=self._compute, args=(key, compute),
                                  name=self.name, daemon=True)
        self._running[key] = thread
        thread.start()
        return thread

    def _keep(self, key: Hashable, value: V) -> None:
        """Keep ``value`` as the newest; the caller holds the lock."""
        self._values.pop(key, None)
        self._values[key] = value
        while len(self._values) > self.keep:
            del self._values[next(iter(self._values))]

    def _compute(self, key: Hashable, compute: Callable[[], V]) -> None:
        if self.nice:
            # Linux takes a thread's id here and lowers that thread only; elsewhere it
            # keeps the server's priority.
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        try:
            value = compute()
        except Exception:  # the page says it failed
            _LOG.exception("computing %s in the background failed", self.name)
            with self._lock:
                self._failed.add(key)
        else:
            with self._lock:
                self._keep(key, value)
        finally:
            with self._lock:
                self._running.pop(key, None)
