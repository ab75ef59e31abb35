"""Import what the pages need once per server process, in the background, from its first run.

Why: Streamlit imports a page's modules when the page first runs, so the first click on each
page after a server start paid for them: pandas and pyarrow (Streamlit's first table) 1.0 s
of the sign-in click, the predictions service 0.85 s of the first customer profile, Altair
and SciPy 2–3 s of the first KPI page (measured at a million customers on two cores). The
first run of the app (the sign-in page) starts :func:`start`, which imports every module the
pages import while the visitor reads the page and types. A page that needs a module being
imported waits for it on the import lock, never imports it twice, and no module is imported
that a page would not import anyway.

The list is read from the pages' own import statements, so a new page or import is warmed
without a list to keep.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import sys
import threading
from pathlib import Path

_LOG = logging.getLogger(__name__)
PAGES = Path(__file__).resolve().parent.parent / "pages"
FIRST = "home.py"  # the page every sign-in opens: its modules come first
# Imported by Streamlit itself at the first table a page draws, not by a page.
STREAMLIT_LAZY = ("pandas", "pyarrow")
_LOCK = threading.Lock()
_started = False  # whether this process started the warm-up


def page_modules(pages: Path = PAGES) -> list[str]:
    """Every name the page scripts import (at any depth of a script), each once: the home
    page's first and Streamlit's lazy ones next (a sign-in needs them), then the others' in
    file order. ``from a import b`` gives ``a`` and ``a.b``, as ``b`` may be a module
    (``from db.segments import preview``) or a name defined in ``a`` (see :func:`_import`)."""
    home = pages / FIRST
    first = _imported_by(home) if home.exists() else []
    rest = [name for script in sorted(pages.glob("*.py")) if script != home
            for name in _imported_by(script)]
    return list(dict.fromkeys([*first, *STREAMLIT_LAZY, *rest]))


def _imported_by(script: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.ImportFrom) and node.module not in (None, "__future__")
                and node.level == 0):
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def start() -> bool:
    """Start importing :func:`page_modules` in a background thread, the first time it is
    called in this process; whether it started now.

    The page scripts are parsed here, before the thread starts: Python 3.11's ast module
    keeps one recursion count for all threads, and parsing beside Streamlit's own parsing of
    a page script (its "magic") raised SystemError in one of them, so that page failed."""
    global _started
    with _LOCK:
        if _started:
            return False
        _started = True
    names = page_modules()
    threading.Thread(target=import_all, args=(names,), name="warm-up-imports",
                     daemon=True).start()
    return True


def import_all(names: list[str]) -> None:
    """Import every module of ``names`` (:func:`page_modules`), logging (not raising) a
    failure."""
    for name in names:
        try:
            _import(name)
        except Exception:  # the page that needs it raises it where it is seen
            _LOG.exception("warming up: importing %s failed", name)


def _import(name: str) -> None:
    """Import ``name`` if it is a module not imported yet. A dotted name may instead be a
    name defined in its parent (``db.core.access.Actor``): skipped once the parent is
    imported (finding the spec imports the parent)."""
    if name in sys.modules:
        return
    if "." in name:
        try:
            if importlib.util.find_spec(name) is None:  # a name in a package's __init__
                return
        except ModuleNotFoundError:
            if name.rpartition(".")[0] in sys.modules:
                return  # a name in a module
            raise
    importlib.import_module(name)
