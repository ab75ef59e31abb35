"""Which customers are probably the same person: blocking, then a field-by-field score.

Plain Python over plain records, no database: :mod:`db.quality.candidates` feeds it the live
customers, the tests and ``bench/duplicates.py`` feed it planted data.

Comparison keys come from the import engine's normalisers
(:func:`db.customers.validation.normalise_email`, :func:`~db.customers.validation.normalise_phone`):
a stored address or number already in their form is taken as it is, anything else (legacy
rows, "030 1234567", "Jane.Doe@Example.COM") is normalised first, so it meets its twin.
Names, streets and cities are folded like the search index folds them (case and accents
ignored).

Blocking: two customers are compared only when they share a key — the same e-mail, the same
E.164 phone, the same e-mail name (the part before the @), the first three letters of either
name within the same postcode, or the same birth date, or both names' first letters within
the same city. Either name's letters are keys, so a typo in one name or first and last name
swapped still meet. Blocks of more than :data:`MAX_BLOCK` customers are skipped (counted):
comparing them all would be the all-pairs cost blocking exists to avoid, and the same pairs
meet in narrower blocks.

Scoring follows Fellegi–Sunter: each field adds its evidence in bits, log2 of how much more
often it agrees (or disagrees) so between two records of one person than between two others;
a prior says how rare a true pair is among compared ones; the sum is turned into a
probability in 0..1. The weights were set by hand and checked on planted duplicates
(bench/RESULTS.md gives precision and recall at :data:`DEFAULT_THRESHOLD`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from rapidfuzz.distance import Indel

from db.customers.validation import InvalidValue, normalise_email, normalise_phone
from db.derived.search_index import fold_name

DEFAULT_THRESHOLD = 0.9  # pairs at or above it are proposed as duplicates
REVIEW_FLOOR = 0.5  # pairs at or above it are stored for review
MAX_BLOCK = 60

# Evidence in bits (log2 of the likelihood ratio); the prior is that of a random compared pair.
PRIOR = -22.0
EMAIL_SAME, EMAIL_NAME_SAME, EMAIL_OTHER = 20.0, 12.0, -2.0
PHONE_SAME, PHONE_OTHER = 20.0, -4.0
NAME_SAME, NAME_SWAPPED, NAME_CLOSE, NAME_NEAR, NAME_OTHER = 12.0, 11.0, 10.0, 4.0, -10.0
BIRTH_SAME, BIRTH_OTHER = 12.0, -10.0
POSTCODE_SAME, POSTCODE_OTHER, STREET_SAME, STREET_CLOSE = 8.0, -3.0, 6.0, 4.0
CITY_SAME = 3.0  # counted only where the postcodes cannot be compared (it follows from them)


class Person(NamedTuple):
    """A customer's fields as stored (any may be missing but the names and the country)."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    street: str | None
    postcode: str | None
    city: str | None
    country: str
    birth_date: date | str | None


class Keys(NamedTuple):
    """A customer's comparison keys ("" where the field is missing)."""

    id: int
    first: str
    last: str
    name: str  # "first last", folded
    email: str
    email_name: str  # before the @
    phone: str  # E.164
    street: str
    postcode: str  # country + postcode without spaces or dashes
    city: str
    birth: str  # ISO date


@dataclass(frozen=True)
class Pair:
    """Two customers that may be one person: ``left_id < right_id``, a score in 0..1 and
    why, strongest reason first ("same e-mail", "names 92% alike")."""

    left_id: int
    right_id: int
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Found:
    """What a detection found: pairs at or above the floor (best first) and the work done."""

    pairs: list[Pair]
    compared: int
    skipped_blocks: int


def email_key(value: str | None) -> str:
    """The address as :func:`normalise_email` writes it (an invalid one lower-cased)."""
    text = (value or "").strip()
    if not text or (text.isascii() and text == text.lower()):
        return text
    try:
        return normalise_email(text)
    except InvalidValue:
        return text.lower()


def phone_key(value: str | None, country: str) -> str:
    """The number in E.164 as :func:`normalise_phone` writes it; what it cannot read, its
    digits."""
    text = (value or "").strip()
    if not text or (text[0] == "+" and text[1:].isdigit()):
        return text
    try:
        return normalise_phone(text, country or None)
    except InvalidValue:
        return "".join(ch for ch in text if ch.isdigit())


def _fold(value: str | None) -> str:
    return " ".join(fold_name(value).split()) if value else ""


def keys(person: Person) -> Keys:
    email = email_key(person.email)
    postcode = "".join(ch for ch in (person.postcode or "") if ch.isalnum()).upper()
    first, last = _fold(person.first_name), _fold(person.last_name)
    birth = person.birth_date
    return Keys(person.id, first, last, f"{first} {last}", email, email.partition("@")[0],
                phone_key(person.phone, person.country), _fold(person.street),
                person.country + postcode if postcode else "", _fold(person.city),
                birth.isoformat() if isinstance(birth, date) else (birth or ""))


def _name_prefixes(record: Keys) -> set[str]:
    return {name[:3] for name in (record.first, record.last) if name}


# One function per kind of block: each yields a record's keys of that kind. Blocks are built
# one kind at a time, so only one kind's dictionary is in memory at once.
BLOCKINGS: dict[str, Callable[[Keys], Iterable[str]]] = {
    "e-mail": lambda r: (r.email,) if r.email else (),
    "phone": lambda r: (r.phone,) if r.phone else (),
    "e-mail name": lambda r: (r.email_name,) if len(r.email_name) >= 3 else (),
    "postcode": lambda r: ([r.postcode + "|" + p for p in _name_prefixes(r)]
                           if r.postcode else ()),
    "birth date": lambda r: ([r.birth + "|" + p for p in _name_prefixes(r)]
                             if r.birth else ()),
    "city": lambda r: ((r.city + "|" + "|".join(sorted(_name_prefixes(r))),)
                       if r.city else ()),
}


def _blocks(records: list[Keys], key_of: Callable[[Keys], Iterable[str]]
            ) -> Iterator[list[int]]:
    """The blocks of one kind with at least two records, as lists of positions."""
    groups: dict[str, int | list[int]] = {}
    for position, record in enumerate(records):
        for key in key_of(record):
            held = groups.get(key)
            if held is None:
                groups[key] = position
            elif isinstance(held, int):
                groups[key] = [held, position]
            else:
                held.append(position)
    for held in groups.values():
        if not isinstance(held, int):
            yield held


def candidate_pairs(records: list[Keys]) -> tuple[set[int], int]:
    """Every pair of positions sharing a block, packed as ``i * len(records) + j`` with
    ``i < j``, and how many blocks were skipped as too large."""
    size = len(records)
    pairs: set[int] = set()
    skipped = 0
    for key_of in BLOCKINGS.values():
        for block in _blocks(records, key_of):
            if len(block) > MAX_BLOCK:
                skipped += 1
                continue
            for index, left in enumerate(block):
                base = left * size
                pairs.update(base + right for right in block[index + 1:] if right != left)
    return pairs, skipped


def _percent(similarity: float) -> str:
    return f"{int(similarity * 100)}%"


def name_similarity(a: Keys, b: Keys) -> float:
    """How alike two people's names are (0..1): the less alike of first and last name, each
    as rapidfuzz's normalised Indel similarity, taken as written or swapped (whichever is
    closer). A typo leaves one name a little off and the other equal; "Carl" and "Carolyn
    Bailey" stay apart, as a score of the whole name would not keep them."""
    return max(min(Indel.normalized_similarity(a.first, b.first),
                   Indel.normalized_similarity(a.last, b.last)),
               min(Indel.normalized_similarity(a.first, b.last),
                   Indel.normalized_similarity(a.last, b.first)))


def birth_weights(records: list[Keys]) -> dict[str, float]:
    """The evidence of sharing each birth date, less for a common one (Fellegi–Sunter's term
    frequency adjustment): where many customers share a date (a form's default, an age
    clipped to 18), sharing it says little. Dates seen only a few times get
    :data:`BIRTH_SAME`."""
    counts = Counter(record.birth for record in records if record.birth)
    size = max(1, len(records))
    return {birth: max(1.0, min(BIRTH_SAME, math.log2(size / count) - 2))
            for birth, count in counts.items() if count > 1}


def score(a: Keys, b: Keys, birth_weight: Mapping[str, float] | None = None
          ) -> tuple[float, tuple[str, ...]]:
    """How likely ``a`` and ``b`` are one person (0..1), and the reasons, strongest first.
    ``birth_weight`` (from :func:`birth_weights`) weighs a shared birth date by how common
    it is."""
    birth_weight = birth_weight or {}
    evidence: list[tuple[float, str]] = []
    if a.email and b.email:
        if a.email == b.email:
            evidence.append((EMAIL_SAME, "same e-mail"))
        elif a.email_name == b.email_name:
            evidence.append((EMAIL_NAME_SAME, "same e-mail name, other domain"))
        else:
            evidence.append((EMAIL_OTHER, ""))
    if a.phone and b.phone:
        evidence.append((PHONE_SAME, "same phone") if a.phone == b.phone else (PHONE_OTHER, ""))
    if a.first == b.first and a.last == b.last:
        evidence.append((NAME_SAME, "same name"))
    elif a.first == b.last and a.last == b.first:
        evidence.append((NAME_SWAPPED, "same name, first and last swapped"))
    else:
        alike = name_similarity(a, b)
        if alike >= 0.8:
            evidence.append((NAME_CLOSE, f"names {_percent(alike)} alike"))
        elif alike >= 0.65:
            evidence.append((NAME_NEAR, f"names {_percent(alike)} alike"))
        else:
            evidence.append((NAME_OTHER, "names differ"))
    if a.birth and b.birth:
        evidence.append((birth_weight.get(a.birth, BIRTH_SAME), "same birth date")
                        if a.birth == b.birth
                        else (BIRTH_OTHER, "birth dates differ"))
    if a.postcode and b.postcode:
        if a.postcode == b.postcode:
            evidence.append((POSTCODE_SAME, "same postcode"))
            if a.street and b.street:
                alike = Indel.normalized_similarity(a.street, b.street)
                if alike == 1:
                    evidence.append((STREET_SAME, "same street address"))
                elif alike >= 0.85:
                    evidence.append((STREET_CLOSE, f"streets {_percent(alike)} alike"))
        else:
            evidence.append((POSTCODE_OTHER, ""))
    elif a.city and a.city == b.city:
        evidence.append((CITY_SAME, "same city"))
    bits = PRIOR + sum(weight for weight, _ in evidence)
    reasons = tuple(reason for weight, reason in
                    sorted(evidence, key=lambda item: -abs(item[0])) if reason)
    return 1 / (1 + 2 ** -bits), reasons


def find_pairs(people: Iterable[Person], *, floor: float = REVIEW_FLOOR,
               exclude: frozenset[tuple[int, int]] = frozenset()) -> Found:
    """The pairs among ``people`` scoring at least ``floor``, best first; pairs in
    ``exclude`` (``(smaller id, larger id)``, say those judged not the same) are left out."""
    records = [keys(person) for person in people]
    packed, skipped = candidate_pairs(records)
    weights = birth_weights(records)
    size = len(records)
    pairs: list[Pair] = []
    for code in packed:
        a, b = records[code // size], records[code % size]
        if a.id == b.id:
            continue
        if a.id > b.id:
            a, b = b, a
        if (a.id, b.id) in exclude:
            continue
        value, reasons = score(a, b, weights)
        if value >= floor:
            pairs.append(Pair(a.id, b.id, value, reasons))
    pairs.sort(key=lambda pair: (-pair.score, pair.left_id, pair.right_id))
    return Found(pairs, len(packed), skipped)
