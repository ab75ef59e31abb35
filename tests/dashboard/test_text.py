"""Typed text reaches Markdown-rendering calls only as literal text; counts read as English."""

from __future__ import annotations

import pytest

from dashboard.text import counted, plain

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


@pytest.mark.parametrize(("number", "expected"), [
    (0, "0 pairs"), (1, "1 pair"), (2, "2 pairs"), (1204, "1,204 pairs")])
def test_a_count_names_its_noun_in_the_form_the_number_takes(number: int,
                                                               expected: str) -> None:
    assert counted(number, "pair") == expected


def test_a_noun_with_its_own_plural_uses_it() -> None:
    assert counted(1, "match", "matches") == "1 match"
    assert counted(3, "match", "matches") == "3 matches"
