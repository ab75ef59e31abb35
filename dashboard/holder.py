"""What a page remembers about a write it just committed, kept so a click cannot cut it off.

Every Session State read or write, and every Streamlit call that sends something to the
browser (a spinner closing, a toast), is a point where a click that arrived meanwhile stops
the run: Streamlit raises there, before the operation, in button callbacks too. A page that
wrote to the database and then noted the result in Session State could be stopped between
the two: the write is committed, the note is not, and the next click (often the second
click of a double click) acts on stale state — a false "someone saved this after you", the
same file backed up twice, a result lost.

So a page fetches a plain dict with :func:`holder` *before* the write and fills it by plain
dict operations right after the service call returns, with no Streamlit call in between:
once the write has returned, its note is in Session State too.
"""

from __future__ import annotations

from typing import Any

import streamlit as st


def holder(key: str) -> dict[Any, Any]:
    """The plain dict kept in Session State under ``key`` (an empty one the first time).

    Call it before the write; change the dict it returns, never the key, after it."""
    held: dict[Any, Any] = st.session_state.setdefault(key, {})
    return held
