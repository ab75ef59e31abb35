"""Work that runs for seconds of Python, done in a child process the caller waits for.

Why: a thread of the Streamlit server that runs Python holds the server's GIL, and every
other user's clicks share it. A data-quality check at a million customers is ~12 s of Python
in its 23 s; run in a server thread it made the KPI page with a segment filter take 13.0 s
instead of 6.5 s, and a customer profile 4.4 s instead of 2.3 s. Waiting for a process
releases the GIL.

Children are forked from a forkserver, started once per server process with the modules of
:func:`load_in_forkserver` imported: under 10 ms a child, rather than ~1.5 s of imports for
a fresh interpreter (a child still compiles its SQL statements afresh: a 5,000-customer
check takes 0.28 s in one, 0.09 s in a warm server). A child gets only what pickles as
plain values: a database URL as a string (it builds its own engine with
:func:`db.core.engine.get_engine`), never an engine or a connection. It is a daemon: a
server that stops while one runs ends it rather than waiting for it.

multiprocessing would also re-run the parent's ``__main__`` in every child (so that objects
defined there unpickle). Under Streamlit that is the app script of whichever session ran
last (``dashboard/app.py``: a whole page run, seconds) or its launcher script; a
child here needs neither, so :class:`_Launch` leaves it out.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.context import ForkServerProcess, set_spawning_popen
from typing import Any

_LOG = logging.getLogger(__name__)
_CONTEXT = multiprocessing.get_context("forkserver")
_PRELOAD: set[str] = set()


class ChildFailed(RuntimeError):
    """The child raised (its log says why: the server's standard error) or was killed."""


def load_in_forkserver(module: str) -> None:
    """Have the forkserver import ``module`` when it starts (at the first child), so that
    children running its functions need not import it each: call it at the module's import,
    before its first child."""
    _PRELOAD.add(module)
    _CONTEXT.set_forkserver_preload(sorted(_PRELOAD))


def run_in_child(target: Callable[..., None], *args: Any, name: str) -> None:
    """Run ``target(*args)`` in a child process and wait for it to end; raise
    :class:`ChildFailed` unless it ended normally. ``target`` is a module-level function
    (it is sent by name) and ``args`` plain values; what it produces it stores itself."""
    child = _Child(target=_run_logged, args=(target, args), name=name, daemon=True)
    child.start()
    child.join()
    code = child.exitcode
    child.close()
    if code == 0:
        return
    reason = (f"was killed by signal {-code}" if code is not None and code < 0
              else f"failed with exit code {code}")
    raise ChildFailed(f"the child process of {name} {reason}")


def _run_logged(target: Callable[..., None], args: tuple[Any, ...]) -> None:
    """In the child: run ``target``; log why it failed and exit with 1 if it raises."""
    try:
        target(*args)
    except Exception:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        _LOG.exception("%s failed in its child process", multiprocessing.current_process().name)
        raise SystemExit(1) from None


class _Launch(popen_forkserver.Popen):
    """The forkserver's launch (Python 3.11's ``popen_forkserver.Popen._launch``), but
    without the parent's main module in what the child prepares (see the module)."""

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_name", None)
        prep_data.pop("init_main_from_path", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        fds: list[int] = vars(self)["_fds"]  # the fds the process object asked to pass
        self.sentinel, w = forkserver.connect_to_new_process(fds)
        # The child watches a duplicate of the data pipe's write end to see its parent end.
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, _close, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Child(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _Launch:
        return _Launch(process_obj)


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)
