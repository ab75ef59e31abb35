"""How one candidate of a lookup matches the typed text, and the order of a page of them.

A name starts with the search (as a whole, its surname or a word), contains it (or another
part of the record does), or resembles it (a typo): :func:`rank_text` says which, with a
score for the similar ones, and :func:`ranked` puts a page's candidates in that order.
Where the candidates come from is :mod:`db.search.candidates`'s.
"""

from __future__ import annotations

from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from db.derived.search_index import fold_name

SIMILARITY_CUTOFF = 60.0


class Match(IntEnum):
    """Why a customer matched; lower sorts first."""

    EXACT = 0
    PREFIX = 1
    CONTAINS = 2
    SIMILAR = 3


class Candidate(NamedTuple):
    """What ranking reads of one customer; the contact columns stay None when only the
    names were read."""

    id: int
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    city: str | None = None


def starts(folded: str, row: Candidate) -> bool:
    """Whether the name of ``row`` starts with ``folded`` (as a whole, its surname or a word)."""
    name, last, spaced = _folded_name(row.first_name, row.last_name)
    if " " in folded:  # no single word holds a space
        return name.startswith(folded) or last.startswith(folded)
    return " " + folded in spaced  # a word starts with it: the whole name and surname too


@lru_cache(maxsize=100_000)
def _folded_name(first: str, last: str) -> tuple[str, str, str]:
    """A customer's folded whole name, surname, and whole name after a space (where each
    word starts after a space: folded text has no other white space), remembered: folding
    each candidate's names anew was a third of a common search's time."""
    folded_last = fold_name(last)
    name = fold_name(first) + " " + folded_last
    return name, folded_last, " " + name


PREFIX = (Match.PREFIX, "name starts with the search", 100.0)
CONTAINS_REASON = "contains the search"


def rank_text(folded: str, row: Candidate, *, holds: bool,
              score: float) -> tuple[Match, str, float] | None:
    """How ``row`` matches ``folded``; ``holds``: its index text contains it (so it
    matches even where only a phone number or reference holds the text); ``score``: how
    alike its name is (:func:`_scores`)."""
    if starts(folded, row):
        return PREFIX
    first, last = fold_name(row.first_name), fold_name(row.last_name)
    name = first + " " + last
    if holds or folded in name or folded in last + " " + first or (
            row.email and folded in row.email) or (
            row.city and folded in fold_name(row.city)):
        return Match.CONTAINS, CONTAINS_REASON, score
    if score >= SIMILARITY_CUTOFF:
        return Match.SIMILAR, f"similar name ({score:.0f}% alike)", score
    return None


def _scores(folded: str, rows: list[Candidate]) -> list[float]:
    """How alike each row's name is to ``folded``, 0–100: the whole name for "jonh smiht",
    its best word for a lone "smiht". Scored by rapidfuzz a list at a time: a thousand
    records holding a common text took 6 ms scored one call at a time."""
    if not rows:
        return []
    names = [_folded_name(row.first_name, row.last_name)[0] for row in rows]
    owners, words = zip(*((owner, word) for owner, name in enumerate(names)
                          for word in name.split() or [""]), strict=True)
    best = process.cdist([folded], names, scorer=fuzz.token_sort_ratio, dtype=np.float64)[0]
    np.maximum.at(best, list(owners),
                  process.cdist([folded], words, scorer=fuzz.ratio, dtype=np.float64)[0])
    return [float(score) for score in best]


def ranked(folded: str, rows: list[Candidate], holding: set[int],
            upto: int) -> tuple[list[tuple[tuple[Match, str, float], str, int]], int]:
    """The ``rows`` that match ``folded`` as (rank, last name, id), best first, and how many
    match: the list is complete up to place ``upto`` at least.

    Names starting with the search come first, all scored alike and in name order. When
    they fill the places asked for and every other row holds the text (so matches too, only
    later), the others are counted but not scored: most of a common prefix's work.
    """
    starting: list[tuple[tuple[Match, str, float], str, int]] = []
    others: list[Candidate] = []
    for row in rows:
        if starts(folded, row):
            starting.append((PREFIX, row.last_name, row.id))
        else:
            others.append(row)
    starting.sort(key=lambda item: (item[1], item[2]))
    if len(starting) >= upto and all(row.id in holding for row in others):
        return starting, len(rows)
    # A record holding the text that does not start with it contains it: what rank_text
    # would say after testing it again (a common text's thousand holders: 3-5 ms).
    scored = [(rank, row.last_name, row.id)
              for row, score in zip(others, _scores(folded, others), strict=True)
              if (rank := ((Match.CONTAINS, CONTAINS_REASON, score) if row.id in holding
                           else rank_text(folded, row, holds=False, score=score)))]
    scored.sort(key=lambda item: (item[0][0], -item[0][2], item[1], item[2]))
    best = starting + scored
    return best, len(best)
