"""Keep Streamlit's garbage collection after every run cheap.

Streamlit runs a full collection (``gc.collect(2)``) after each script run, so memory does
not build up between clicks. A full collection visits every object the collector tracks, and
the modules the app imports (Streamlit, pandas, SQLAlchemy, Altair, SciPy…) hold about
216,000 of them: each click paid 0.24–0.48 s for a walk that never frees any of them.
:func:`freeze_imports` moves the objects alive after the imports into the collector's
permanent generation (``gc.freeze``), which a collection skips; the objects of each run are
still collected after it. It freezes again only when new modules were imported (a page first
opened), so what a session keeps alive meanwhile is frozen a handful of times at most.
"""

from __future__ import annotations

import gc
import sys
import threading

_LOCK = threading.Lock()
_frozen_with = 0  # how many modules were imported at the last freeze


def freeze_imports() -> bool:
    """Freeze what is alive now if modules were imported since the last freeze; whether it
    froze."""
    global _frozen_with
    with _LOCK:
        if len(sys.modules) <= _frozen_with:
            return False
        gc.collect()  # nothing already garbage is kept forever
        gc.freeze()
        _frozen_with = len(sys.modules)
        return True
