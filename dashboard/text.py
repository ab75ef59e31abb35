"""Showing user-entered text safely.

Streamlit renders HTML only when asked to (we never ask), but it does render Markdown: a name
like ``![x](https://tracker)`` would load an image. Anything typed by a user goes through
:func:`md_escape` before it reaches a Markdown-rendering widget.
"""

from __future__ import annotations

import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def md_escape(text: object) -> str:
    """``text`` with every Markdown control character backslash-escaped."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))


def format_when(value: object) -> str:
    """A UTC timestamp as ``2026-11-23 14:05 UTC``; em dash for none."""
    if value is None:
        return "—"
    return f"{value:%Y-%m-%d %H:%M} UTC"
