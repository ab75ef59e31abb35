"""Customer lookup: one box that finds a customer by name, e-mail, phone, reference or id.

Ranking: exact matches (e-mail, phone, id, external reference) first, then names that start
with the query, then records that contain it, then similar names (a typo or swapped letters).
Each hit says why it matched. Text queries read the trigram index of
:mod:`db.derived.search_index` — FTS5 on SQLite, pg_trgm on PostgreSQL — and the name words
beside it (through :mod:`db.search.candidates`), never a table scan; queries under three
characters, which trigrams cannot serve, fall back to name prefixes.

Results come a page at a time with the number of matches, so nobody mistakes the first
page for all of them. Counting stops at :data:`COUNTED` (a count over a million records
would cost more than the search), and ranked text matches at :data:`RANKED` (every one is
scored in Python): beyond those the page asks for a narrower search.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import starmap
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, Select, func
from sqlmodel import Session, col, select

from db.core.access import Actor, Capability, require
from db.core.engine import read_session
from db.core.sql import table_of
from db.customers.validation import InvalidValue, normalise_email
from db.derived import search_index
from db.derived.search_index import (
    SUFFIX_DIGITS,
    TypedPhone,
    fold,
    numbers_with_form,
    phone_digit_forms,
    typed_phone,
    visible,
)
from db.models import Customer
from db.search import candidates
from db.search.filtering import NO_FILTERS, SearchFilters, among, filtered, id_list
from db.search.matching import PREFIX, Candidate, Match, ranked

CANDIDATES = 120
ANCHORED_CANDIDATES = 500
PAGE_SIZE = 50
RANKED = 1_000  # text matches ranked, hence listable, per search
TERM_CHARS = 200  # a search reads this much of what was typed
COUNTED = 2_000  # matches counted at most; more reads "more than 2,000"
SIMILAR_BELOW = 50  # similar names are looked for only when fewer records hold the text


@dataclass(frozen=True, slots=True)
class Found:
    """What a search shows of a customer, and the version a quick edit of it starts from.

    Not the ORM record: reading a page of fifty through the ORM cost a PostgreSQL search a
    millisecond of its eight, for some twenty columns of which the lookup shows eight."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    city: str | None
    country: str
    status: str
    preferred_channel: str | None
    version: int


_FOUND_COLUMNS = tuple(table_of(Customer).c[name] for name in Found.__slots__)


@dataclass(frozen=True)
class SearchHit:
    """One customer found, with why (``reason`` is what the page shows)."""

    customer: Found
    match: Match
    reason: str
    score: float = 100.0


@dataclass(frozen=True)
class SearchResults:
    """One page of a search and how many customers match in all."""

    hits: list[SearchHit]  # this page, best first
    offset: int  # how many better matches come before this page
    total: int  # customers matching, counted up to COUNTED
    more: bool  # more than ``total`` match: the count stopped at COUNTED, or names alike did
    listable: int  # how many of the matches can be paged through (the rest need narrowing)


def _exact(session: Session, term: str, filters: SearchFilters) -> list[SearchHit]:
    hits: list[SearchHit] = []
    dialect = session.get_bind().dialect.name
    base = filtered(sa.select(*_FOUND_COLUMNS), filters, few_on=dialect)
    if "@" in term:
        try:
            email = normalise_email(term)
        except InvalidValue:
            email = term.strip().lower()
        hits += [SearchHit(c, Match.EXACT, "e-mail")
                 for c in _found(session, base.where(col(Customer.email) == email))]
    if term.isdigit() and len(term) <= 9:
        hits += [SearchHit(c, Match.EXACT, "customer id")
                 for c in _found(session, base.where(col(Customer.id) == int(term)))]
    reference = term.strip()
    # Most searches are no reference: asking for ids first spares them reading records.
    referenced = list(session.connection().execute(
        _reference_statement(filters, dialect),
        {"refs": [reference, reference.upper()]}).scalars())
    if referenced:
        hits += [SearchHit(c, Match.EXACT, "external reference")
                 for c in _records(session, referenced).values()]
    phone = typed_phone(term)
    if phone and len(phone.digits) >= 6:
        hits += _phone_hits(session, phone, filters)
    return hits


def _phone_hits(session: Session, phone: TypedPhone, filters: SearchFilters) -> list[SearchHit]:
    """Customers whose phone number ``phone`` is (exact), or — typed without its country
    code — ends with (contains).

    Every number of which the typed digits are a form has a part of its index text ending
    in them, so while fewer than RANKED records end in them, those records hold the exact
    matches too and one search finds both (the number lookup below cost a PostgreSQL
    search a third of its time: some 250 index probes, each bound and sent apart).
    """
    exact: list[int] = []
    ending: list[int] = []
    complete = False
    if not phone.international and len(phone.digits) >= SUFFIX_DIGITS:
        found = candidates.ending_ids(session, phone.digits, RANKED)
        complete = len(found) < RANKED
        for row in _rank_rows(session, found, filters):
            forms = phone_digit_forms(row.phone) if row.phone else []
            if complete and phone.digits in forms:
                exact.append(row.id)
            elif any(form.endswith(phone.digits) for form in forms):
                ending.append(row.id)
    if not complete:
        # Phones are stored in E.164: the phone index finds every number of which the typed
        # digits are a form, where the trigram index would intersect a dozen long digit
        # lists. (Asked apart from the filters: beside them SQLite, without statistics, may
        # prefer another index and scan a million records.)
        ids = list(session.exec(select(Customer.id).where(
            col(Customer.phone).in_(numbers_with_form(phone.digits)))))
        exact = [customer_id for customer_id, number in session.connection().execute(
            filtered(sa.select(table_of(Customer).c.id, table_of(Customer).c.phone), filters,
                     few_on=session.get_bind().dialect.name)
            .where(col(Customer.id).in_(ids)))
            if number and phone.digits in phone_digit_forms(number)]
    if not exact and not ending:
        return []
    records = _records(session, exact + ending)
    return ([SearchHit(records[cid], Match.EXACT, "phone number")
             for cid in exact if cid in records]
            + [SearchHit(records[cid], Match.CONTAINS, "phone number ends with the search")
               for cid in ending if cid not in exact and cid in records])


@lru_cache(maxsize=256)
def _reference_statement(filters: SearchFilters, dialect: str) -> Select:
    """The ids of customers passing ``filters`` whose external reference is one of ``refs``,
    built once per filters (building it anew was most of a search's time in :func:`_exact`)."""
    return filtered(sa.select(table_of(Customer).c.id), filters, few_on=dialect).where(
        col(Customer.external_ref).in_(sa.bindparam("refs", expanding=True)))


def _rank_rows(session: Session, ids: list[int], filters: SearchFilters, *,
               names_only: bool = False) -> list[Candidate]:
    """What ranking reads of the customers ``ids`` that pass ``filters``; full records are
    loaded for the few hits that are shown. ``names_only`` for records known to hold the
    text, which ranking tells apart by their names alone."""
    if not ids:
        return []
    dialect = session.get_bind().dialect.name
    # Through the connection: the session's ORM layer added a millisecond to plain columns;
    # and as plain tuples: ranking reads each row's columns several times, and a row's
    # columns by name cost ten times a tuple's.
    # (All rows fetched at once: iterating a result fetches them one call at a time.)
    return list(starmap(Candidate, session.connection().execute(
        _rank_statement(filters, dialect, names_only), {"ids": id_list(ids, dialect)}).all()))


@lru_cache(maxsize=256)
def _rank_statement(filters: SearchFilters, dialect: str, names_only: bool) -> Select:
    """:func:`_rank_rows`' statement, built once per filters (building it anew each time
    cost a millisecond)."""
    columns = _NAME_COLUMNS if names_only else _RANK_COLUMNS
    return filtered(sa.select(*columns), filters, few_on=dialect).where(among(dialect))


def _phrase_count(session: Session, folded: str, filters: SearchFilters) -> int:
    """How many customers passing ``filters`` hold ``folded`` in their index text, counted
    up to COUNTED + 1 (the index drives the join, so the count stops there)."""
    dialect = session.get_bind().dialect.name
    holds = (candidates.fts_query([folded], phrase=True) if dialect == "sqlite"
             else "%" + candidates.escape_like(folded) + "%")
    return session.connection().execute(_phrase_count_statement(filters, dialect),
                                        {"holds": holds}).scalar_one()


@lru_cache(maxsize=256)
def _phrase_count_statement(filters: SearchFilters, dialect: str) -> Select:
    """:func:`_phrase_count`'s statement, the text bound as ``holds``, built once per
    filters (building and compiling it anew was a millisecond of a PostgreSQL search)."""
    table = search_index.bulk_table(dialect)
    if dialect == "sqlite":
        key = table.c.rowid
        holds = table.c.body.op("MATCH")(sa.bindparam("holds", type_=sa.String()))
    else:
        key = table.c.customer_id
        holds = table.c.body.like(sa.bindparam("holds", type_=sa.String()), escape="\\")
    if filters == NO_FILTERS:  # the index holds live customers only: no join needed
        return _counted(sa.select(key).where(holds))
    return _counted(filtered(
        sa.select(table_of(Customer).c.id).join_from(table, table_of(Customer),
                                                     table_of(Customer).c.id == key)
        .where(holds), filters, few_on=dialect))


def _count_upto(session: Session, query: Select) -> int:
    """``query``'s rows counted up to COUNTED + 1."""
    return session.execute(_counted(query)).scalar_one()


def _counted(query: Select) -> Select:
    """A count of ``query``'s rows that stops at COUNTED + 1."""
    return select(func.count()).select_from(query.limit(COUNTED + 1).subquery())


_RANK_COLUMNS = tuple(table_of(Customer).c[name] for name in (
    "id", "first_name", "last_name", "email", "phone", "city"))
_NAME_COLUMNS = _RANK_COLUMNS[:3]


def _short_prefix(session: Session, folded: str, filters: SearchFilters, limit: int,
                  offset: int) -> SearchResults:
    """Under three characters: surnames starting with the query, read as a range on the
    (last_name, first_name) index — "sm" is the range "Sm" ≤ last_name < "Sm\uffff"."""
    start = folded[:1].upper() + folded[1:]
    # The range picks few: SQLite read every customer through the index of merged_into_id
    # (all NULL) instead when fewer than COUNTED surnames started so (0.3 s at a million).
    query = filtered(sa.select(*_FOUND_COLUMNS), filters,
                     few_on=session.get_bind().dialect.name).where(
        col(Customer.last_name) >= start, col(Customer.last_name) < start + "\uffff")
    return _sql_page(session, query.order_by(col(Customer.last_name),
                                             col(Customer.first_name), col(Customer.id)),
                     Match.PREFIX, "name starts with the search", limit, offset)


def _sql_page(session: Session, query: Select[Any], match: Match, reason: str,
              limit: int, offset: int) -> SearchResults:
    """A page of an ordered ``query`` of customers' :data:`_FOUND_COLUMNS`, all matching
    alike, with their count."""
    total = _count_upto(session, query.order_by(None))
    listable = min(total, COUNTED)
    shown = _found(session, query.offset(offset).limit(max(min(limit, listable - offset), 0)))
    return SearchResults(hits=[SearchHit(c, match, reason) for c in shown], offset=offset,
                         total=listable, more=total > COUNTED, listable=listable)


def known_countries(actor: Actor, *, engine: Engine | None = None) -> list[str]:
    """The countries customers live in, for the lookup's filter (no personal data)."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return list(session.exec(select(Customer.country).distinct().order_by(Customer.country)))


def search_customers(actor: Actor, term: str, filters: SearchFilters = NO_FILTERS, *,
                     limit: int = PAGE_SIZE, offset: int = 0,
                     engine: Engine | None = None) -> SearchResults:
    """Customers ``offset`` to ``offset + limit`` for ``term`` within ``filters``, best
    first, and how many match in all.

    An empty term lists the newest customers that pass the filters.
    """
    require(actor, Capability.LOOKUP)
    offset = max(offset, 0)
    # As the index holds text (PostgreSQL refuses a NUL anyway): invisible marks dropped.
    term = visible(term).strip()[:TERM_CHARS]
    folded = fold(term)
    with read_session(engine) as session:
        if not term:
            return _sql_page(session, filtered(sa.select(*_FOUND_COLUMNS), filters)
                             .order_by(col(Customer.id).desc()),
                             Match.CONTAINS, "matches the filters", limit, offset)
        identified: dict[int, SearchHit] = {}
        for hit in _exact(session, term, filters):
            if hit.customer.id is not None:  # always: the hits were read from the table
                identified.setdefault(hit.customer.id, hit)
        if identified:  # an e-mail, phone, id or reference: the person typed an identifier
            ordered = sorted(identified.values(), key=lambda h: (
                h.match, -h.score, h.customer.last_name, h.customer.id or 0))
            return SearchResults(hits=ordered[offset:offset + limit], offset=offset,
                                 total=len(ordered), more=False, listable=len(ordered))
        if len(folded) < 3:
            return _short_prefix(session, folded, filters, limit, offset)
        return _text_page(session, folded, filters, limit, offset)


def _text_page(session: Session, folded: str, filters: SearchFilters, limit: int,
               offset: int) -> SearchResults:
    """Names starting with the search, then records holding the text (up to RANKED of
    them), then — when few do — similar names, ranked in Python; a page of them with the
    number of matches.

    A one-word search reads the names starting with it from the name words. When they fill
    the page (or exceed RANKED, which then bounds the list), only the matches are counted.
    """
    upto = min(offset + limit, COUNTED)
    starting: list[Candidate] = []
    if " " not in folded:
        starting, more = candidates.starting_rows(session, folded, filters, RANKED)
        if more or len(starting) >= max(upto, SIMILAR_BELOW):
            return _starting_page(session, folded, filters, starting, more, offset, upto)
    # Every name starting with the search is in hand: read as many other records holding
    # the text as a search without them would have (so RANKED of those at most).
    known = {row.id for row in starting}
    wanted = RANKED + len(known)
    counted: int | None = None  # how many hold the text, when known without a count
    if session.get_bind().dialect.name == "postgresql" and filters == NO_FILTERS:
        # The index holds live customers only, and there their names: no record is read.
        # As many rows are read as a count would read, so their number is the count.
        holders = candidates.named_phrase_rows(session, folded, max(wanted, COUNTED + 1))
        others = [row for row in holders if row.id not in known][:RANKED]
        counted = len(holders)
    else:
        phrase_ids = candidates.phrase_ids(session, folded, wanted)
        others = _rank_rows(session, [cid for cid in phrase_ids if cid not in known][:RANKED],
                            filters, names_only=True)
        if len(phrase_ids) >= wanted:  # more may hold the text than were ranked
            counted = _phrase_count(session, folded, filters)
    rows = starting + others
    holding = {row.id for row in rows}
    similar_more = False  # more names alike than were read, each of which would match
    if len(rows) < SIMILAR_BELOW:
        named, ids, similar_more = candidates.similar(session, folded, limit=CANDIDATES,
                                                      anchored=ANCHORED_CANDIDATES)
        if filters != NO_FILTERS:  # names alone do not tell who passes the filters
            named, ids, similar_more = [], [row.id for row in named] + ids, False
        # Named ones are ranked on their names alone: every record holding the text is in
        # hand, and these hold none of it, so no e-mail or city of theirs can contain it.
        rows += [row for row in named + _rank_rows(session, ids, filters)
                 if row.id not in holding]
    best, total = ranked(folded, rows, holding, upto)
    listable = min(total, COUNTED)
    total = max(total, counted or 0)
    return _page(session, best[offset:min(offset + limit, listable)], offset, total, listable,
                 more=similar_more)


def _starting_page(session: Session, folded: str, filters: SearchFilters,
                   starting: list[Candidate], more: bool, offset: int,
                   upto: int) -> SearchResults:
    """A page of the names starting with ``folded``, which fill it, and the number of
    records holding the text. As many of those can be listed as :func:`_text_page` would
    rank: the names starting with it, then up to RANKED others (none when the names
    starting with it exceed RANKED)."""
    total = max(len(starting), _phrase_count(session, folded, filters))
    others = 0 if more else min(total - len(starting), RANKED)
    listable = min(len(starting) + others, COUNTED)
    best = [(PREFIX, row.last_name, row.id) for row in starting]
    best.sort(key=lambda item: (item[1], item[2]))
    return _page(session, best[offset:min(upto, listable)], offset, total, listable)


def _page(session: Session, page: list[tuple[tuple[Match, str, float], str, int]],
          offset: int, total: int, listable: int, *, more: bool = False) -> SearchResults:
    """The hits of ``page`` (rank, last name, id), with their records read; ``more``: more
    than ``total`` match though fewer were counted."""
    records = _records(session, [cid for *_, cid in page])
    # On PostgreSQL each statement sees what was committed before it: a customer deleted,
    # erased or merged since the ranking read them is left out.
    hits = [SearchHit(records[cid], match, reason, score)
            for (match, reason, score), _, cid in page if cid in records]
    return SearchResults(hits=hits, offset=offset, total=min(total, COUNTED),
                         more=more or total > COUNTED, listable=listable)


def _found(session: Session, query: Select[Any]) -> list[Found]:
    """The customers a select of :data:`_FOUND_COLUMNS` reads, in its order."""
    return list(starmap(Found, session.connection().execute(query).all()))


def _records(session: Session, ids: list[int]) -> dict[int, Found]:
    """The live customers among ``ids``, by id."""
    dialect = session.get_bind().dialect.name
    rows = session.connection().execute(_records_statement(dialect),
                                        {"ids": id_list(ids, dialect)}).all()
    return {found.id: found for found in starmap(Found, rows)}


@lru_cache(maxsize=4)
def _records_statement(dialect: str) -> Select[Any]:
    """What a search shows of the live customers bound as ``ids`` (:func:`among`), built
    once: an IN list of a page's fifty ids was rendered, and sent, a placeholder at a time."""
    return filtered(sa.select(*_FOUND_COLUMNS), NO_FILTERS, few_on=dialect).where(
        among(dialect))
