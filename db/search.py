"""Customer lookup: one box that finds a customer by name, e-mail, phone, reference or id.

Ranking: exact matches (e-mail, phone, id, external reference) first, then names that start
with the query, then records that contain it, then similar names (a typo or swapped letters).
Each hit says why it matched. Text queries read the trigram index of
:mod:`db.search_index` — FTS5 on SQLite, pg_trgm on PostgreSQL — never a table scan;
queries under three characters, which trigrams cannot serve, fall back to name prefixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from rapidfuzz import fuzz
from sqlalchemy import Engine, Row, Select, case, literal, or_, text
from sqlmodel import Session, col, select

from db import search_index
from db.access import Actor, Capability, require
from db.engine import get_engine, read_session
from db.models import Customer, CustomerTag, Tag
from db.search_index import fold, phone_digit_forms
from db.validation import InvalidValue, normalise_email

CANDIDATES = 120
ANCHORED_CANDIDATES = 500
SIMILARITY_CUTOFF = 60.0
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{6,}$")


class Match(IntEnum):
    """Why a customer matched; lower sorts first."""

    EXACT = 0
    PREFIX = 1
    CONTAINS = 2
    SIMILAR = 3


@dataclass(frozen=True)
class SearchFilters:
    country: str | None = None
    status: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class SearchHit:
    customer: Customer
    match: Match
    reason: str
    score: float = 100.0


def _filtered(query: Select, filters: SearchFilters) -> Select:
    query = query.where(col(Customer.deleted_at).is_(None))
    if filters.country:
        query = query.where(Customer.country == filters.country)
    if filters.status:
        query = query.where(Customer.status == filters.status)
    if filters.tag:
        query = query.where(col(Customer.id).in_(
            select(CustomerTag.customer_id).join(Tag).where(Tag.name == filters.tag)))
    return query


def _exact(session: Session, term: str, filters: SearchFilters) -> list[SearchHit]:
    hits: list[SearchHit] = []
    base = _filtered(select(Customer), filters)
    if "@" in term:
        try:
            email = normalise_email(term)
        except InvalidValue:
            email = term.strip().lower()
        hits += [SearchHit(c, Match.EXACT, "e-mail") for c in
                 session.exec(base.where(Customer.email == email))]
    digits = "".join(ch for ch in term if ch.isdigit())
    if term.isdigit() and len(term) <= 9:
        hits += [SearchHit(c, Match.EXACT, "customer id") for c in
                 session.exec(base.where(Customer.id == int(term)))]
    reference = term.strip()
    hits += [SearchHit(c, Match.EXACT, "external reference") for c in session.exec(
        base.where(col(Customer.external_ref).in_({reference, reference.upper()})))]
    if _PHONE_LIKE.match(term) and len(digits) >= 6:
        ids = [row.id for row in _index_candidates(session, digits, filters, phrase=True)
               if row.phone and digits in phone_digit_forms(row.phone)]
        hits += [SearchHit(c, Match.EXACT, "phone number") for c in
                 session.exec(select(Customer).where(col(Customer.id).in_(ids)))]
    return hits


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _fts_query(words: list[str], *, phrase: bool) -> str:
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


def _index_candidates(session: Session, folded: str, filters: SearchFilters, *,
                      phrase: bool) -> list[Row]:
    """Customers whose index text contains ``folded`` (phrase) or shares trigrams with it."""
    # Similarity is for names: words of letters only, since the trigrams of e-mail domains
    # and phone digits are shared by most records and would rank the whole table.
    words = [folded] if phrase else [w for w in folded.split() if len(w) >= 3 and w.isalpha()]
    if not words:
        return []
    if session.get_bind().dialect.name == "sqlite":
        id_list = _fts_ids(session, words, phrase=phrase)
    elif phrase:
        id_list = _pg_ids(session, text("SELECT customer_id AS id FROM customer_search "
                                        "WHERE body LIKE '%' || :q || '%' LIMIT :n"),
                          {"q": _escape_like(folded), "n": CANDIDATES})
    else:
        # Trigrams of a short word with a typo barely overlap, so pg_trgm's similarity
        # operators miss "jonh" for "john"; like FTS5, take the records sharing the most
        # trigrams with the query (each LIKE is served by the GIN index).
        body = search_index.bulk_table("postgresql").c.body
        grams = sorted({w[i:i + 3] for w in words for i in range(len(w) - 2)})
        likes = [body.like("%" + _escape_like(gram) + "%", escape="\\") for gram in grams]
        shared = sum((case((like, 1), else_=0) for like in likes), literal(0))
        id_list = _pg_ids(session, select(search_index.bulk_table("postgresql").c.customer_id
                                          .label("id")).where(or_(*likes))
                          .order_by(shared.desc()).limit(CANDIDATES), {})
    if not id_list:
        return []
    # Only what ranking reads; full records are loaded for the few hits that are shown.
    return list(session.exec(_filtered(select(*_RANK_COLUMNS), filters)
                             .where(col(Customer.id).in_(id_list))))


_RANK_COLUMNS = (Customer.id, Customer.first_name, Customer.last_name, Customer.email,
                 Customer.phone, Customer.city)
_FTS_ANY = text("SELECT rowid AS id FROM customer_search WHERE customer_search MATCH :q "
                "LIMIT :n")
_FTS_RANKED = text("SELECT rowid AS id FROM customer_search WHERE customer_search MATCH :q "
                   "ORDER BY rank LIMIT :n")


def _fts_ids(session: Session, words: list[str], *, phrase: bool) -> list[int]:
    """Candidate ids from FTS5.

    Every phrase match contains the query, so any of them will do (unranked: the first
    rows found end the scan). Similar names try anchored queries first — one word exactly,
    the others by a shared trigram, unranked: a typo usually spoils one word, and pinning
    the other leaves few records for rapidfuzz to rank. Only if none match are all the
    trigrams ranked by bm25, which on a million records costs tens of milliseconds.
    """
    if not phrase:
        anchored = [(_FTS_ANY, _quoted(word) + " AND " + _fts_query(rest, phrase=False),
                     ANCHORED_CANDIDATES)
                    for word in words if len(words) > 1
                    for rest in [[w for w in words if w != word]]]
        stages = [anchored, [(_FTS_RANKED, _fts_query(words, phrase=False), CANDIDATES)]]
    else:
        stages = [[(_FTS_ANY, _fts_query(words, phrase=True), CANDIDATES)]]
    for stage in stages:
        ids: list[int] = []
        for statement, query, count in stage:
            ids += [row.id for row in session.execute(statement, {"q": query, "n": count})]
        if ids:
            return list(dict.fromkeys(ids))
    return []


def _pg_ids(session: Session, statement, params: dict) -> list[int]:  # type: ignore[no-untyped-def]
    return [row.id for row in session.execute(statement, params)]


def _escape_like(value: str) -> str:
    """``value`` matched literally inside a LIKE pattern (escape character: backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name(customer: Customer | Row) -> str:
    return fold(f"{customer.first_name} {customer.last_name}")


def _rank_text(folded: str, customer: Customer | Row) -> tuple[Match, str, float] | None:
    name = _name(customer)
    if name.startswith(folded) or fold(customer.last_name).startswith(folded) or any(
            word.startswith(folded) for word in name.split()):
        return Match.PREFIX, "name starts with the search", 100.0
    # The whole name for "jonh smiht", its best word for a lone "smiht".
    score = max(fuzz.token_sort_ratio(folded, name),
                max(fuzz.ratio(folded, word) for word in name.split() or [""]))
    surname_first = fold(f"{customer.last_name} {customer.first_name}")
    if folded in name or folded in surname_first or (
            customer.email and folded in customer.email) or (
            customer.city and folded in fold(customer.city)):
        return Match.CONTAINS, "contains the search", score
    if score >= SIMILARITY_CUTOFF:
        return Match.SIMILAR, f"similar name ({score:.0f}% alike)", score
    return None


def _short_prefix(session: Session, folded: str, filters: SearchFilters,
                  limit: int) -> list[SearchHit]:
    """Under three characters: surnames starting with the query, read as a range on the
    (last_name, first_name) index — "sm" is the range "Sm" ≤ last_name < "Sm\uffff"."""
    start = folded[:1].upper() + folded[1:]
    query = _filtered(select(Customer), filters).where(
        Customer.last_name >= start, Customer.last_name < start + "\uffff",
    ).order_by(Customer.last_name, Customer.first_name).limit(limit)
    return [SearchHit(c, Match.PREFIX, "name starts with the search")
            for c in session.exec(query)]


def known_countries(url: str | None = None) -> list[str]:
    """The countries customers live in, for the lookup's filter (no personal data)."""
    with read_session(get_engine(url)) as session:
        return list(session.exec(select(Customer.country).distinct().order_by(Customer.country)))


def search_customers(actor: Actor, term: str, filters: SearchFilters = SearchFilters(), *,
                     limit: int = 50, engine: Engine | None = None) -> list[SearchHit]:
    """The best ``limit`` customers for ``term`` within ``filters``, best first.

    An empty term lists the newest customers that pass the filters.
    """
    require(actor, Capability.LOOKUP)
    # Printable characters only: PostgreSQL refuses NUL in text, and no name holds controls.
    term = "".join(ch for ch in term if ch.isprintable()).strip()[:200]
    folded = fold(term)
    with read_session(engine) as session:
        if not term:
            query = _filtered(select(Customer), filters).order_by(col(Customer.id).desc())
            return [SearchHit(c, Match.CONTAINS, "matches the filters")
                    for c in session.exec(query.limit(limit))]
        hits: dict[int, SearchHit] = {}
        for hit in _exact(session, term, filters):
            hits.setdefault(hit.customer.id, hit)  # type: ignore[arg-type]
        if hits:
            pass  # an exact e-mail, phone, id or reference: the person typed an identifier
        elif len(folded) < 3:
            for hit in _short_prefix(session, folded, filters, limit):
                hits.setdefault(hit.customer.id, hit)  # type: ignore[arg-type]
        else:
            rows = _index_candidates(session, folded, filters, phrase=True)
            if len(rows) < limit:
                rows += _index_candidates(session, folded, filters, phrase=False)
            ranked = {row.id: (_rank_text(folded, row), row.last_name) for row in rows}
            best = sorted(((r, last, cid) for cid, (r, last) in ranked.items() if r),
                          key=lambda item: (item[0][0], -item[0][2], item[1], item[2]))[:limit]
            records = {c.id: c for c in session.exec(
                select(Customer).where(col(Customer.id).in_([cid for *_, cid in best])))}
            for (match, reason, score), _, customer_id in best:
                hits[customer_id] = SearchHit(records[customer_id], match, reason, score)
    ordered = sorted(hits.values(), key=lambda h: (h.match, -h.score, h.customer.last_name,
                                                   h.customer.id or 0))
    return ordered[:limit]
