"""Figures that take seconds, computed once per key in a background thread and shared by
every session of the server process.

Why: a page must settle in under a second, but some figures over a million customers take
seconds (the KPI page's predictions outlook). A page asks for the figure of its key (a data
version: it changes with every write of the data the figure shows); when it is not known yet
the computation starts in the background, the page waits a moment (:data:`PAGE_WAIT_S`: a
small database's figure is done by then), and otherwise shows the rest and fills the figure
in when done. The moment counts from the computation's start, not from the page's asking: a
figure warmed at sign-in and still running when its page opens is a slow one, and waiting
for it anyway made the KPI page's first open on PostgreSQL 0.5 s slower (2.1 s) whenever the
predictions outlook was not done yet. Only the newest values are kept (:attr:`Computed.keep`
keys).

A figure that no click waits for when it is started (warmed at sign-in for a page the user
may open later) can run at the lowest CPU priority (:attr:`Computed.nice`), so that its SQL
(run outside the GIL) takes only the CPU the server and the browser leave. On two cores, with
the KPI figures, the outlook and the count of every customer started at a million-customer
sign-in, the first one after a restart settled in 1.5–2.6 s; with the last two at nice 19 in
1.6–2.2 s; with all three in 1.3–1.9 s, but then the KPI page waited on a slowed thread.

Values that someone may ask for later, several of them, are warmed one after another in one
thread (:meth:`Computed.start_in_turn`), so that they take one core at most however many
there are; a page that asks for one before its turn computes it at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

_LOG = logging.getLogger(__name__)
PAGE_WAIT_S = 0.5  # how long a page waits for a figure before it shows what it has

V = TypeVar("V")


class _Run(threading.Event):
    """Set when the computation of a key is done; knows when it started."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()

    def left(self, wait_s: float) -> float:
        """What is left of ``wait_s`` counted from the start: a page waits a moment for a
        figure from when it was first asked for (at sign-in, or by another session), so
        that one still running then is a slow one, and the page shows the rest at once."""
        return max(0.0, self.started + wait_s - time.monotonic())


class Computed(Generic[V]):
    """Values by key, each computed once in a background thread (see the module)."""

    def __init__(self, name: str, *, keep: int = 4, nice: int = 0) -> None:
        self.name = name
        self.keep = keep
        self.nice = nice  # the nice value its threads run at (Linux; 19: the lowest priority)
        self._values: dict[Hashable, V] = {}
        self._running: dict[Hashable, _Run] = {}
        self._failed: set[Hashable] = set()
        self._generation = 0  # moved on by forget(): what was started before is not kept
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V], *,
            wait_s: float | None = None) -> tuple[bool, V | None]:
        """(True, value) when the value of ``key`` is known, within ``wait_s`` (default
        :data:`PAGE_WAIT_S`) of starting its computation; else (False, None) while it runs.
        A computation that failed is not started again for the key (see :meth:`failed`)."""
        with self._lock:
            if key in self._values:
                return True, self._values[key]
            done = self._under_way(key, compute)
        if done is not None:
            done.wait(done.left(PAGE_WAIT_S if wait_s is None else wait_s))
        with self._lock:
            return (True, self._values[key]) if key in self._values else (False, None)

    def value(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value of ``key``, waiting for its computation however long it takes (a
        caller that cannot show anything without it). When the background computation
        failed, the caller computes it itself, so that it is the one that sees why."""
        with self._lock:
            if key in self._values:
                return self._values[key]
            done = self._under_way(key, compute)
        if done is not None:
            done.wait()
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

    def start_in_turn(self, jobs: Sequence[tuple[Hashable, Callable[[], V]]], *,
                      nice: int | None = None, after: Hashable | None = None) -> None:
        """Compute the values of ``jobs``' keys one after another in one background thread
        (at ``nice``, default :attr:`nice`), once the computation of ``after`` under way (if
        any) is done: warming several values that someone may ask for later without taking
        more than one core, nor the core of a value asked for sooner. (A low priority does
        not reach a database server's own processes: on PostgreSQL the queries run at full
        priority whatever the thread's.) A key known, under way or failed when its turn
        comes is skipped; a page asking for a key before its turn computes it itself."""
        with self._lock:
            generation = self._generation
            first = self._running.get(after)
            jobs = [(key, compute) for key, compute in jobs if not (
                key in self._values or key in self._running or key in self._failed)]
        if jobs:
            threading.Thread(target=self._in_turn, args=(jobs, generation, nice, first),
                             name=self.name, daemon=True).start()

    def wait(self, key: Hashable, seconds: float | None = None) -> bool:
        """Wait up to ``seconds`` (default :data:`PAGE_WAIT_S`) for the computation of
        ``key`` under way; whether none is under way now."""
        with self._lock:
            done = self._running.get(key)
        if done is not None:
            done.wait(PAGE_WAIT_S if seconds is None else seconds)
        return not self.running(key)

    def known(self, key: Hashable) -> bool:
        """Whether the value of ``key`` is known (kept)."""
        with self._lock:
            return key in self._values

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
            self._generation += 1
            running = list(self._running.values())
        for done in running:
            done.wait()
        with self._lock:
            self._values.clear()
            self._failed.clear()

    def _under_way(self, key: Hashable, compute: Callable[[], V]) -> _Run | None:
        """The event set when the computation of ``key`` under way is done, started now
        unless it failed before; the caller holds the lock."""
        done = self._running.get(key)
        if done is None and key not in self._failed:
            done = self._start(key, compute)
        return done

    def _start(self, key: Hashable, compute: Callable[[], V]) -> _Run:
        """Start the computation of ``key`` in a thread of its own; the caller holds the
        lock."""
        done = self._running[key] = _Run()
        threading.Thread(target=self._run, args=(key, compute, done, self._generation,
                                                 self.nice),
                         name=self.name, daemon=True).start()
        return done

    def _keep(self, key: Hashable, value: V) -> None:
        """Keep ``value`` as the newest; the caller holds the lock."""
        self._values.pop(key, None)
        self._values[key] = value
        while len(self._values) > self.keep:
            del self._values[next(iter(self._values))]

    def _in_turn(self, jobs: list[tuple[Hashable, Callable[[], V]]], generation: int,
                 nice: int | None, first: _Run | None) -> None:
        if first is not None:
            first.wait()
        for key, compute in jobs:
            with self._lock:
                if (self._generation != generation or key in self._values
                        or key in self._running or key in self._failed):
                    continue
                done = self._running[key] = _Run()
            self._run(key, compute, done, generation, self.nice if nice is None else nice)

    def _run(self, key: Hashable, compute: Callable[[], V], done: _Run,
             generation: int, nice: int) -> None:
        """Compute the value of ``key`` in this thread (lowered to ``nice``), keep it unless
        :meth:`forget` was called since it started, and set ``done``."""
        if nice:
            # Linux takes a thread's id here and lowers that thread only; elsewhere it
            # keeps the server's priority. A thread cannot be raised again (without
            # privileges), so a thread computing in turn is lowered once for all its keys.
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        try:
            value = compute()
        except Exception:  # the page says it failed
            _LOG.exception("computing %s in the background failed", self.name)
            with self._lock:
                if self._generation == generation:
                    self._failed.add(key)
        else:
            with self._lock:
                if self._generation == generation:
                    self._keep(key, value)
        finally:
            with self._lock:
                if self._running.get(key) is done:
                    del self._running[key]
            done.set()
