"""Typed text reaches Markdown-rendering calls only as literal text."""

from __future__ import annotations

import pytest

from dashboard.text import plain

ZWSP = "\u200b"


def test_markdown_and_html_syntax_is_escaped() -> None:
    assert plain("**bold** ![x](y) <img src=x>") == (
        r"\*\*bold\*\* \!\[x\]\(y\) \<img src\=x\>")


@pytest.mark.parametrize(("typed", "expected"), [
    ("http://evil.example", f"h{ZWSP}ttp\\://evil\\.example"),
    ("www.evil.example", f"w{ZWSP}ww\\.evil\\.example"),
    ("a@b.example", "a\\@b\\.example"),
])
def test_urls_and_emails_cannot_autolink(typed: str, expected: str) -> None:
    assert plain(typed) == expected


def test_line_breaks_cannot_start_new_markdown_blocks() -> None:
    assert "\n" not in plain("Ann\n# heading\n- item")
