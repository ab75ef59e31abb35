"""The customer search index: one normalised text per customer, searched by trigrams.

SQLite keeps it in an FTS5 table with the trigram tokenizer (rowid = customer id);
PostgreSQL in a plain table with a pg_trgm GIN index. Both hold the same text, built by
:func:`compose`: name and city folded to lower-case ASCII, the e-mail, the external
reference, and the phone number as digits in its international and trunk forms (which
contain the national one), so "+44 20 7946 0958", "020 7946 0958" and "442079460958" all
find it. Every part ends with " |", so a search can pin where a part ends: the last digits
of a phone number ("…0958 |"). Each trigram stored costs load time, so nothing is stored
twice. :func:`typed_phone` reads a typed number into the same digits. PostgreSQL's rows
hold the customer's names too (:func:`bulk_row` says why).

Beside the text, :func:`name_words` lists the words of each live customer's folded name
(``customer_name_word``): a one-word search reads the names starting with it as one range
of that table, already in hand for ranking, instead of reading their records by id.

The write path calls :func:`index_customers` in the same transaction as the change;
:func:`rebuild` refills the index and the words after bulk loads (demo data, imports).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from functools import cache, lru_cache
from typing import NamedTuple, Protocol

import phonenumbers
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text, exists
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from db.core.sql import table_of
from db.derived.models import CustomerNameVocabulary, CustomerNameWord
from db.models import Customer, Lifecycle, is_live, live

TABLE = "customer_search"
PART_END = " |"  # follows every part of the index text
SUFFIX_DIGITS = 6  # a number typed without its start matches phones ending in it from here
_TYPED_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")
_TRUNK_IN_BRACKETS = re.compile(r"\(\s*0\s*\)")  # "+49 (0)157 …": the 0 dialled at home


class Searchable(Protocol):
    """The fields the index reads: a Customer, or a row selecting just these."""

    id: int | None
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    external_ref: str | None
    city: str | None


def visible(value: str) -> str:
    """``value`` as it looks: characters nobody sees dropped (controls, and format marks such
    as the right-to-left mark U+200F or an emoji's zero-width joiner U+200D), any other
    space or line break a plain space. The index text and a typed search both pass through
    it (in :func:`fold`), so a name is found whether or not the mark is typed."""
    if value.isprintable():  # nearly every name: nothing to drop
        return value
    return "".join(" " if ch.isspace() else "" if unicodedata.category(ch)[0] == "C" else ch
                   for ch in value)


def fold(value: str) -> str:
    """Lower-case ASCII: ``"José Łukasz"`` → ``"jose lukasz"`` (accents and case ignored),
    of the :func:`visible` text."""
    if value.isascii() and value.isprintable():  # most names: nothing to drop or decompose
        return value.lower()
    return _fold_any(value)


# Small letters that Unicode does not write as a base letter and a mark, so that stripping
# marks leaves them as they are: spelt out as people type them without the letter. Applied
# after lower-casing, so that a capital folds as its small letter does ("Ø" as "ø").
# Migration 0017 rewrites the index text of names folded before these were spelt out: a
# letter added here needs such a migration too.
SPELT_OUT = str.maketrans({"ł": "l", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d",
                           "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t"})


def _fold_any(value: str) -> str:
    """:func:`fold` of any text, a character at a time (a search's first candidates spent
    most of their ranking here before plain ASCII took the short way)."""
    decomposed = unicodedata.normalize("NFKD", visible(value))
    return "".join(ch for ch in decomposed
                   if not unicodedata.combining(ch)).lower().translate(SPELT_OUT)


@lru_cache(maxsize=100_000)
def fold_name(value: str) -> str:
    """:func:`fold` of one name or city, remembered: names repeat, and folding each anew was a
    visible share of a demo load. Folding two names apart and joining them with a space
    gives what folding the joined text gives (a space ends every context folding depends on;
    a property test checks it)."""
    return fold(value)


@cache
def _trunk_prefix(calling_code: int) -> str:
    """The digit(s) dialled before a national number at home (0 in GB, DE, FR; none in ES)."""
    region = phonenumbers.region_code_for_country_code(calling_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (metadata.national_prefix or "") if metadata else ""


def phone_digit_forms(e164: str) -> list[str]:
    """The digit strings people type for an E.164 number: international, with the trunk
    prefix, national. Worked out from the calling code, with no full parse, which costs
    fifty times more and matters when a million customers are indexed."""
    digits = "".join(ch for ch in e164 if ch.isdigit())
    for size in (1, 2, 3):
        calling_code = int(digits[:size] or 0)
        if calling_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return [digits]
    national = digits[size:]
    prefix = _trunk_prefix(calling_code)
    return list(dict.fromkeys([digits, prefix + national, national]))


def numbers_with_form(digits: str) -> list[str]:
    """Every E.164 number of which ``digits`` may be one of :func:`phone_digit_forms`: the
    digits as an international number, or as a national one (with or without its trunk
    prefix) after each calling code. A lookup of these in the phone column's index finds
    every customer with that form; :func:`phone_digit_forms` then keeps the real ones."""
    numbers = {"+" + digits}
    for code, trunk in _calling_codes():
        numbers.add("+" + code + digits)
        if trunk and digits.startswith(trunk):
            numbers.add("+" + code + digits[len(trunk):])
    return sorted(numbers)


@cache
def _calling_codes() -> tuple[tuple[str, str], ...]:
    """Every calling code with its trunk prefix."""
    return tuple((str(code), _trunk_prefix(code))
                 for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE))


class TypedPhone(NamedTuple):
    """A typed phone number as the index holds its digits."""

    digits: str
    international: bool  # typed with its country code ("+49 …", "0049 …")


def typed_phone(term: str) -> TypedPhone | None:
    """``term`` read as a phone number, or None if it is not one.

    "00" before the country code is read as "+", and a bracketed trunk "(0)" after it is
    dropped, so "0049 (0)157 41015619" and "+49 157 41015619" give the same digits,
    "4915741015619" — the international form :func:`phone_digit_forms` indexes.
    """
    text = term.strip()
    if not _TYPED_PHONE.match(text):
        return None
    text = _TRUNK_IN_BRACKETS.sub("", text)
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("00"):
        return TypedPhone(digits[2:], True)
    return TypedPhone(digits, text.startswith("+"))


def compose(first_name: str, last_name: str, email: str | None, phone: str | None,
            external_ref: str | None, city: str | None) -> str:
    """What the index text of a customer with these values is: every searchable form,
    space-separated."""
    parts = [fold_name(first_name) + " " + fold_name(last_name)]
    if email:
        parts.append(visible(email))
    if phone:
        # The bare national number is a substring of the other forms: no need to store it.
        forms = phone_digit_forms(phone)
        parts.extend(form for form in forms
                     if not any(form != other and form in other for other in forms))
    if external_ref:
        parts.append(visible(external_ref).lower())
    if city:
        parts.append(fold_name(city))
    return " ".join(part + PART_END for part in parts)


def name_words(first_name: str, last_name: str) -> list[str]:
    """The distinct words of a customer's folded whole name, split at spaces as
    :func:`db.search.matching.starts` splits it: a name starts with a one-word search
    exactly when one of these does."""
    name = fold_name(first_name) + " " + fold_name(last_name)
    return sorted({word for word in name.split(" ") if word})


def word_rows(customer_id: int, first_name: str, last_name: str
              ) -> list[tuple[str, int, str, str]]:
    """The ``customer_name_word`` rows of one customer, as :data:`WORD_COLUMNS`."""
    return [(word, customer_id, first_name, last_name)
            for word in name_words(first_name, last_name)]


WORDS = table_of(CustomerNameWord)
VOCABULARY = table_of(CustomerNameVocabulary)
WORD_COLUMNS = ("word", "customer_id", "first_name", "last_name")


@cache
def bulk_table(dialect: str) -> Table:
    """The index as a table :func:`db.core.bulk.insert_rows` can load: the id column and
    the body, then on PostgreSQL the names (:func:`bulk_row`)."""
    if dialect == "sqlite":
        return Table(TABLE, MetaData(), Column("rowid", Integer), Column("body", Text))
    return Table(TABLE, MetaData(), Column("customer_id", Integer), Column("body", Text),
                 Column("first_name", String(100)), Column("last_name", String(100)))


def bulk_row(dialect: str, customer_id: int | None, first_name: str, last_name: str,
             email: str | None, phone: str | None, external_ref: str | None,
             city: str | None) -> tuple[object, ...]:
    """One customer's row of :func:`bulk_table`.

    PostgreSQL's rows hold the names: its trigram search reads each matching row anyway,
    and the lookup ranks those records by their names, which it would otherwise read from
    the customer table by id (as long again). SQLite's FTS5 index finds rowids without
    reading rows, so it holds the text alone.
    """
    body = compose(first_name, last_name, email, phone, external_ref, city)
    if dialect == "sqlite":
        return customer_id, body
    return customer_id, body, first_name, last_name


def _row(dialect: str, customer: Searchable) -> tuple[object, ...]:
    """:func:`bulk_row` of a customer."""
    return bulk_row(dialect, customer.id, customer.first_name, customer.last_name,
                    customer.email, customer.phone, customer.external_ref, customer.city)


def _key(table: Table) -> Column:
    return table.c.rowid if "rowid" in table.c else table.c.customer_id


def _delete(connection: Connection, ids: Sequence[int]) -> None:
    """Take ``ids`` out of the index and their name words out of the words; a word no one
    else holds leaves the vocabulary (an erased name leaves no word behind)."""
    table = bulk_table(connection.dialect.name)
    if ids:
        connection.execute(table.delete().where(_key(table).in_(ids)))
        words = connection.execute(WORDS.delete().where(WORDS.c.customer_id.in_(ids))
                                   .returning(WORDS.c.word)).scalars().all()
        if words:
            connection.execute(VOCABULARY.delete().where(
                VOCABULARY.c.word.in_(sorted(set(words))),
                ~exists().where(WORDS.c.word == VOCABULARY.c.word)))


def _insert(connection: Connection, customers: Sequence[Searchable]) -> None:
    """Index ``customers``: their text, through the same table shape the bulk loader uses,
    and their name words."""
    table = bulk_table(connection.dialect.name)
    if customers:
        connection.execute(table.insert(), [
            dict(zip(table.c.keys(), _row(connection.dialect.name, c), strict=True))
            for c in customers])
        rows = [row for c in customers if c.id is not None
                for row in word_rows(c.id, c.first_name, c.last_name)]
        if rows:  # none for a name of invisible marks only (executing [] inserts a row)
            connection.execute(WORDS.insert(),
                               [dict(zip(WORD_COLUMNS, row, strict=True)) for row in rows])
            note_words(connection, [row[0] for row in rows])


def note_words(connection: Connection, words: Iterable[str]) -> None:
    """Add to the vocabulary the name ``words`` it lacks (two writers adding one word at
    once both succeed). A word lost to a race with a writer removing its last holder only
    sends a typo of it the slow way, through the trigram ranking, until :func:`rebuild`."""
    rows = [{"word": word} for word in sorted(set(words))]
    if rows:
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(insert(VOCABULARY).on_conflict_do_nothing(), rows)


class Indexed(Searchable, Lifecycle, Protocol):
    """A customer as :func:`index_customers` reads it: its searchable fields and whether it
    is live (a Customer, or a row of :data:`INDEXED_COLUMNS`)."""


# What the index needs of a customer: selected instead of whole ORM objects, which cost a
# write of a few thousand customers (an import's part) more than the rest of its refresh.
INDEXED_COLUMNS = tuple(col(getattr(Customer, name)) for name in (
    *Searchable.__annotations__, "deleted_at", "erased_at", "merged_into_id"))


def index_customers(session: Session, customers: Iterable[Indexed]) -> None:
    """Bring the index in step with ``customers`` inside the caller's transaction.

    Customers no longer live (soft-deleted, erased) leave the index, so lookup cannot find them.
    """
    customers = list(customers)
    connection = session.connection()
    _delete(connection, [c.id for c in customers if c.id is not None])
    _insert(connection, [c for c in customers if c.id is not None and is_live(c)])


def _live(connection: Connection, batch: int) -> Iterator[Sequence[Searchable]]:
    """Every live customer's searchable fields, in id order and ``batch`` customers at a
    time (a million never sit in memory at once)."""
    columns = [getattr(Customer, name) for name in Searchable.__annotations__]
    last_id = 0
    while True:
        rows = connection.execute(
            select(*columns).where(col(Customer.id) > last_id, live())
            .order_by(col(Customer.id)).limit(batch)).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def rebuild(connection: Connection, *, batch: int = 20_000) -> int:
    """Refill the whole index and the name words from the customer table; returns how many
    customers were indexed."""
    connection.execute(bulk_table(connection.dialect.name).delete())
    connection.execute(WORDS.delete())
    connection.execute(VOCABULARY.delete())
    indexed = 0
    for customers in _live(connection, batch):
        _insert(connection, customers)
        indexed += len(customers)
    return indexed


def differences(connection: Connection, *, batch: int = 20_000) -> int:
    """How many customers' index rows differ from their record (a live customer missing or
    with other text or name words, or rows for a customer no longer live), plus the words
    the vocabulary lacks or holds without a holder."""
    dialect = connection.dialect.name
    stored = {row[0]: tuple(row) for row in connection.execute(bulk_table(dialect).select())}
    words: dict[int, set[tuple[str, int, str, str]]] = {}
    for row in connection.execute(select(*(WORDS.c[name] for name in WORD_COLUMNS))):
        words.setdefault(row.customer_id, set()).add(tuple(row))
    differing = 0
    for customers in _live(connection, batch):
        differing += sum(
            (stored.pop(c.id, None), words.pop(c.id, set()))
            != (_row(dialect, c), set(word_rows(c.id, c.first_name, c.last_name)))
            for c in customers if c.id is not None)
    vocabulary = set(connection.execute(select(VOCABULARY.c.word)).scalars())
    held = set(connection.execute(select(WORDS.c.word).distinct()).scalars())
    return (differing + len(stored.keys() | words.keys())  # no live customer's
            + len(vocabulary ^ held))
