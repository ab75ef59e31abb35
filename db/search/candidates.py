"""Where a lookup's candidates come from: the trigram index of :mod:`db.derived.search_index`
(FTS5 on SQLite, pg_trgm on PostgreSQL) and the name words beside it.

Each function returns ids (or, from the name words, the names too), unranked and at most as
many as asked: :mod:`db.search.ranking` decides how many, ranks them and pages them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import starmap
from typing import NamedTuple

import sqlalchemy as sa
from rapidfuzz import fuzz, process
from sqlalchemy import Executable, Select, case, literal, or_, text
from sqlmodel import Session, select

from db.core.sql import table_of
from db.derived import search_index
from db.derived.search_index import SUFFIX_DIGITS, fold_name
from db.models import Customer
from db.search.filtering import NO_FILTERS, SearchFilters, filtered
from db.search.matching import Candidate


def ending_ids(session: Session, digits: str, limit: int) -> list[int]:
    """Up to ``limit`` customers with a part of their index text ending in ``digits`` — and on
    SQLite maybe others: the caller keeps the phones that end in them."""
    ending = digits + search_index.PART_END
    if session.get_bind().dialect.name == "sqlite":
        # Each trigram of a phrase costs a long list of digits to intersect: the last six
        # digits alone find a superset at a fraction of the cost. Only if that reaches the
        # limit (then some records holding all the digits may be missing) is the phrase asked.
        for phrase in (digits[-SUFFIX_DIGITS:], ending):
            ids = _ids(session, _FTS_ANY, {"q": _quoted(phrase), "n": limit})
            if len(ids) < limit:
                break
        return ids
    return _pg_ids(session, _PG_PHRASE, {"q": escape_like(ending), "n": limit})


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def fts_query(words: list[str], *, phrase: bool) -> str:
    """An FTS5 query: the whole text as one quoted phrase, or — for similar names — every
    longer word sharing at least one trigram ("jonh smiht": (smi OR mih OR iht)), which keeps
    the candidates to people who resemble the query; rapidfuzz then ranks them."""
    if phrase:
        phrase_text = " ".join(words)
        parts = phrase_text.split()
        if len(parts) == 2:  # names are stored "first last"; people also type "last first"
            return _quoted(phrase_text) + " OR " + _quoted(f"{parts[1]} {parts[0]}")
        return _quoted(phrase_text)
    # A swap in a four-letter word can change all of its trigrams ("jonh" shares none with
    # "john"), so only words of five letters or more are required to match.
    def any_trigram(*group: str) -> str:
        grams = sorted({w[i:i + 3] for w in group for i in range(len(w) - 2)})
        return "(" + " OR ".join(_quoted(gram) for gram in grams) + ")"

    required = [word for word in words if len(word) >= 5]
    if not required:
        return any_trigram(*words)
    return " AND ".join(any_trigram(word) for word in required)


def phrase_ids(session: Session, folded: str, limit: int) -> list[int]:
    """Up to ``limit`` customers whose index text contains ``folded`` (unranked, unfiltered)."""
    if _word_missing(session, folded):
        return []
    if session.get_bind().dialect.name == "sqlite":
        return _fts_ids(session, [folded], phrase=True, limit=limit)
    return _pg_ids(session, _PG_PHRASE, {"q": escape_like(folded), "n": limit})


def named_phrase_rows(session: Session, folded: str, limit: int) -> list[Candidate]:
    """:func:`phrase_ids` on PostgreSQL with the names its index rows hold
    (:func:`db.derived.search_index.bulk_row`), read by the same statement."""
    if _word_missing(session, folded):
        return []
    return list(starmap(Candidate, session.connection().execute(
        _PG_NAMED_PHRASE, {"q": escape_like(folded), "n": limit}).all()))


def _word_missing(session: Session, folded: str) -> bool:
    """Whether a text of several words has one found nowhere, checked a word at a time,
    longest first: a typo ("damian jderzejek") usually makes one word found nowhere, which
    one record read shows, where the whole phrase walks the long lists of its common
    trigrams ("ian", "dam") — 8 ms of a 24 ms search at a million customers."""
    words = sorted({word for word in folded.split(" ") if len(word) >= 3}, key=len,
                   reverse=True)
    return len(words) > 1 and any(not phrase_ids(session, word, 1) for word in words)


_PG_PHRASE = text("SELECT customer_id AS id FROM customer_search "
                  "WHERE body LIKE '%' || :q || '%' LIMIT :n")
_PG_NAMED_PHRASE = text("SELECT customer_id, first_name, last_name FROM customer_search "
                        "WHERE body LIKE '%' || :q || '%' LIMIT :n")


class Similar(NamedTuple):
    """Candidates for similar names: ``named`` read with their names from the name words
    (live customers, whatever the search's filters), ``ids`` whose records are yet to be
    read; ``more``: more names than ``named`` have a word alike, each of which matches."""

    named: list[Candidate]
    ids: list[int]
    more: bool = False


def similar(session: Session, folded: str, *, limit: int, anchored: int) -> Similar:
    """Customers whose names resemble the words of ``folded``: first those with a name word
    starting with one of them and another sharing a trigram with the rest, or — for one
    word — a name word alike that starts with its first letters; then — if none — the
    ``limit`` whose index text shares the most trigrams with them (``anchored``: how many
    each anchoring word may bring)."""
    # Similarity is for names: words of letters only, since the trigrams of e-mail domains
    # and phone digits are shared by most records and would rank the whole table.
    words = [w for w in folded.split() if len(w) >= 3 and w.isalpha()]
    if not words:
        return Similar([], [])
    pinned = (_anchored(session, words, anchored) if len(words) > 1
              else _alike_word_rows(session, words[0], anchored))
    if pinned.named or pinned.ids:
        return pinned
    if session.get_bind().dialect.name == "sqlite":
        return Similar([], _fts_ids(session, words, phrase=False, limit=limit))
    # Trigrams of a short word with a typo barely overlap, so pg_trgm's similarity
    # operators miss "jonh" for "john"; like FTS5, take the records sharing the most
    # trigrams with the query (each LIKE is served by the GIN index).
    body = search_index.bulk_table("postgresql").c.body
    grams = sorted({w[i:i + 3] for w in words for i in range(len(w) - 2)})
    likes = [body.like("%" + escape_like(gram) + "%", escape="\\") for gram in grams]
    shared = sum((case((like, 1), else_=0) for like in likes), literal(0))
    return Similar([], _pg_ids(session, select(
        search_index.bulk_table("postgresql").c.customer_id.label("id")).where(or_(*likes))
        .order_by(shared.desc()).limit(limit), {}))


def _alike_words(session: Session, word: str) -> list[str]:
    """The name words at least :data:`ALIKE_CUTOFF` alike ``word`` (four letters or more)
    that start with its first letter — or, where more than :data:`ALIKE_WORDS` do, its
    first two — most alike first; none where even those are more."""
    if len(word) < 4:
        return []
    for prefix in (word[:1], word[:2]):
        known = session.connection().execute(_DISTINCT_WORDS, {
            "low": prefix, "high": prefix + "\U0010ffff", "n": ALIKE_WORDS + 1}
        ).scalars().all()
        if len(known) <= ALIKE_WORDS:
            break
    else:
        return []
    alike = process.extract(word, known, scorer=fuzz.ratio, score_cutoff=ALIKE_CUTOFF,
                            limit=None)
    return [found for found, _, _ in sorted(alike, key=lambda match: (-match[1], match[0]))]


def _alike_word_rows(session: Session, word: str, limit: int) -> Similar:
    """Customers with a name word alike ``word`` (a typo: "ostregaard", "hnasen") that
    starts with its first letter, best-matching words first, up to ``limit``, with their
    names; and whether there are more.

    The distinct name words starting with that letter are read from the vocabulary, and
    rapidfuzz keeps those at least :data:`ALIKE_CUTOFF` alike. Where more than
    :data:`ALIKE_WORDS` words start with it, those starting with the first two letters are
    read instead, and where even those are more, none. Ranking the whole index by shared
    trigrams took 0.3–0.8 s for one such word at a million customers, on both engines; a
    typo in the first letter (or, among many words, the second) still goes that way.
    """
    rows: dict[int, Candidate] = {}  # one more than asked, to know whether there are more
    for found in _alike_words(session, word):
        for row in starmap(Candidate, session.connection().execute(
                _WORD_CUSTOMERS, {"word": found, "n": limit + 1 - len(rows)}).all()):
            rows.setdefault(row.id, row)
        if len(rows) > limit:
            break
    return Similar(list(rows.values())[:limit], [], len(rows) > limit)


ALIKE_WORDS = 2_000
# One slip (two letters swapped, one missed, added or wrong) in a word of four letters or
# more leaves it at least this alike; ranking's own cutoff (60) let "john" stand for "jones".
ALIKE_CUTOFF = 75.0
# Distinct name words of a range: one range of the vocabulary's key.
_DISTINCT_WORDS = sa.select(search_index.VOCABULARY.c.word).where(
    search_index.VOCABULARY.c.word >= sa.bindparam("low"),
    search_index.VOCABULARY.c.word < sa.bindparam("high")).order_by(
    search_index.VOCABULARY.c.word).limit(sa.bindparam("n"))
_WORD_CUSTOMERS = sa.select(search_index.WORDS.c.customer_id, search_index.WORDS.c.first_name,
                            search_index.WORDS.c.last_name).where(
    search_index.WORDS.c.word == sa.bindparam("word")).limit(sa.bindparam("n"))


def _anchored(session: Session, words: list[str], limit: int) -> Similar:
    """Customers with a name word starting with one of ``words`` and a name word sharing a
    trigram with the others ("dorte korker": Dortes with a "kor", "ork", "rke" or "ker") —
    or, where none shares one, a name word alike one of them (:func:`_alike_words`: two
    letters swapped in the middle of a five-letter word change all its trigrams, "mrash"
    shares none with "marsh") — up to ``limit`` for each word. A typo usually spoils one
    word: the other pins the name to a range of the name words, and rapidfuzz ranks the
    few people in it.
    Trigrams shared across the whole index text, which PostgreSQL's trigram index ranks,
    took 0.1–0.6 s there at a million customers; this takes milliseconds on both engines.

    The range's rows hold the names, tested here, so the other words are read only for a
    word that starts more than :data:`ANCHOR_ROWS` names: reading them, a record per
    name, was 7 ms of a PostgreSQL search for the 900 people called "Monika".
    """
    dialect = session.get_bind().dialect.name
    named: dict[int, Candidate] = {}
    ids: list[int] = []
    for word in words:
        rest = [other for other in words if other != word] or [word]
        grams = sorted({w[i:i + 3] for w in rest for i in range(len(w) - 2)})
        bounds = {"low": word, "high": word + "\U0010ffff"}
        rows = session.connection().execute(_starting_statement(NO_FILTERS, dialect),
                                            {**bounds, "n": ANCHOR_ROWS + 1}).all()
        if len(rows) <= ANCHOR_ROWS:
            # A trigram (letters only) is in a name word exactly when it is in the folded
            # name, whose words are those of the name words.
            shares = re.compile("|".join(map(re.escape, grams))).search
            names = [(row, fold_name(row.first_name) + " " + fold_name(row.last_name))
                     for row in starmap(Candidate, rows)]
            found = [row for row, name in names if shares(name)]
            if not found and names:  # words alike are read only when no trigram is shared
                alike = _alike_set(session, rest)
                found = [row for row, name in names if not alike.isdisjoint(name.split())]
            for row in found[:limit]:
                named.setdefault(row.id, row)
            continue
        params = {**bounds, "n": limit, "alike": [],
                  **{f"g{i}": f"%{gram}%" for i, gram in enumerate(grams)}}
        joined = _ids(session, _anchored_statement(len(grams)), params)
        if not joined:
            joined = _ids(session, _anchored_statement(len(grams)),
                          {**params, "alike": sorted(_alike_set(session, rest))})
        ids += joined
    return Similar(list(named.values()),
                   [cid for cid in dict.fromkeys(ids) if cid not in named])


ANCHOR_ROWS = 2_000


def _alike_set(session: Session, words: list[str]) -> set[str]:
    """The name words alike any of ``words`` (:func:`_alike_words`)."""
    return {found for word in words for found in _alike_words(session, word)}


@lru_cache(maxsize=64)
def _anchored_statement(grams: int) -> Select:
    """:func:`_anchored`' statement for ``grams`` trigrams (bound as ``g0``, ``g1``, …;
    letters only, so no LIKE wildcard among them) and the words alike (``alike``)."""
    anchor, other = search_index.WORDS.alias("anchor"), search_index.WORDS.alias("other")
    # Not DISTINCT (the caller drops repeats): for that SQLite, without statistics, walked
    # every name word in customer order instead of the anchor's range.
    return (sa.select(anchor.c.customer_id)
            .join(other, other.c.customer_id == anchor.c.customer_id)
            .where(anchor.c.word >= sa.bindparam("low"), anchor.c.word < sa.bindparam("high"),
                   or_(*(other.c.word.like(sa.bindparam(f"g{i}")) for i in range(grams)),
                       other.c.word.in_(sa.bindparam("alike", expanding=True))))
            .limit(sa.bindparam("n")))


_FTS_ANY = text("SELECT rowid AS id FROM customer_search WHERE customer_search MATCH :q "
                "LIMIT :n")
_FTS_RANKED = text("SELECT rowid AS id FROM customer_search WHERE customer_search MATCH :q "
                   "ORDER BY rank LIMIT :n")


def _fts_ids(session: Session, words: list[str], *, phrase: bool, limit: int) -> list[int]:
    """Candidate ids from FTS5.

    Every phrase match contains the query, so any of them will do (unranked: the first
    rows found end the scan). Similar names (when no name word pins them, see
    :func:`_anchored`) are ranked by bm25 over all their trigrams, which must score
    every record sharing one of them.
    """
    if phrase:
        return _ids(session, _FTS_ANY, {"q": fts_query(words, phrase=True), "n": limit})
    return list(dict.fromkeys(_ids(session, _FTS_RANKED, {
        "q": fts_query(words, phrase=False), "n": limit})))


def _pg_ids(session: Session, statement: Executable, params: dict[str, object]) -> list[int]:
    return _ids(session, statement, params)


def _ids(session: Session, statement: Executable, params: dict[str, object]) -> list[int]:
    """The ids ``statement`` selects, read through the connection (the session's ORM layer
    cost more than SQLite's reading a thousand index rows)."""
    return list(session.connection().execute(statement, params).scalars().all())


def escape_like(value: str) -> str:
    """``value`` matched literally inside a LIKE pattern (escape character: backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def starting_rows(session: Session, folded: str, filters: SearchFilters,
                   limit: int) -> tuple[list[Candidate], bool]:
    """Customers passing ``filters`` with a name word starting with the one word
    ``folded``, read from the name words (one range of their key, holding the names), at
    most ``limit`` of them; and whether there were more."""
    dialect = session.get_bind().dialect.name
    rows = session.connection().execute(_starting_statement(filters, dialect), {
        "low": folded, "high": folded + "\U0010ffff", "n": limit + 1}).all()
    # A name with two words starting alike ("Anna Annan") has a row for each.
    found = list(dict.fromkeys(starmap(Candidate, rows[:limit])))
    return found, len(rows) > limit


@lru_cache(maxsize=256)
def _starting_statement(filters: SearchFilters, dialect: str) -> Select:
    """:func:`starting_rows`' statement, built once per filters. The words are of live
    customers only, so without filters no record is read."""
    words = search_index.WORDS
    query = sa.select(words.c.customer_id, words.c.first_name, words.c.last_name).where(
        words.c.word >= sa.bindparam("low"), words.c.word < sa.bindparam("high"))
    if filters != NO_FILTERS:
        query = filtered(query.join(table_of(Customer),
                                    table_of(Customer).c.id == words.c.customer_id),
                         filters, few_on=dialect)
    return query.limit(sa.bindparam("n"))
