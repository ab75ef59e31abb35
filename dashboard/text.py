"""Formatting values for display.

User-entered text never goes through Markdown-rendering widgets (``st.title``,
``st.markdown``, ``st.caption``...): Streamlit would turn a typed URL into a link or load a
typed image. It goes through ``st.text``, tables or widget values, which show it as typed.
"""

from __future__ import annotations

from datetime import datetime


def format_when(value: datetime | None) -> str:
    """A UTC timestamp as ``2026-11-23 14:05 UTC``; an em dash for none."""
    if value is None:
        return "—"
    return f"{value:%Y-%m-%d %H:%M} UTC"
