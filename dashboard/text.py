"""Formatting values for display, and showing typed text safely.

Streamlit never renders raw HTML unless asked (we never ask), but titles, captions, alerts
and Markdown do render Markdown: a typed ``![x](https://tracker)`` would load an image and a
bare URL or e-mail address would become a link. Text that people typed either goes through
``st.text``, tables and widget values, which show it as typed, or through :func:`plain`
before it reaches a Markdown-rendering call.
"""

from __future__ import annotations

import re
from datetime import datetime

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:@&=])")
_AUTOLINK_STARTS = re.compile(r"(?i)(www|https?|ftp|mailto)")
_ZERO_WIDTH_SPACE = "\u200b"


def plain(text: object) -> str:
    """``text`` for a Markdown-rendering call, shown literally: every Markdown character is
    backslash-escaped, and a zero-width space breaks words that would start an autolink."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))
    escaped = _AUTOLINK_STARTS.sub(lambda m: m.group(0)[0] + _ZERO_WIDTH_SPACE
                                   + m.group(0)[1:], escaped)
    return escaped.replace("\n", " ")


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` with ``noun`` in the form the number takes: "1 pair", "2 pairs",
    "1,204 days" (``plural`` for nouns that do not just add an s)."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def format_when(value: datetime | None) -> str:
    """A UTC timestamp as ``2026-11-23 14:05 UTC``; an em dash for none."""
    if value is None:
        return "—"
    return f"{value:%Y-%m-%d %H:%M} UTC"
