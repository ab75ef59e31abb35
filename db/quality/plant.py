"""Duplicates with known truth, planted into demo data for the tests and the benchmark.

:func:`plant` is pure: from existing customers it draws ``count`` originals (without
replacement) and makes each a second record the way duplicates arise when many channels feed
one database — one or two of: a typo in a name, first and last name swapped, the phone
written in its national format, the e-mail at another provider, fields left out. Whatever
else the copy keeps is the original's. Its e-mail is never the original's stored text (the
column is unique): unless changed or left out it is written with capitals, as an old import
would have kept it. The same customers and seed always give the same copies.

:func:`plant_into` does that to the live customers of a database and writes the copies as new
customers (with their summary and search-index rows, no audit event: this is demo data, like
``db.demo``), returning the true pairs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import phonenumbers
from sqlalchemy import Engine, insert, select

from db.core.bulk import reset_sequence
from db.core.engine import write_session
from db.core.sql import table_of
from db.core.types import utcnow
from db.derived.hook import customers_changed
from db.models import Customer
from db.quality.candidates import live_people
from db.quality.matching import Person

KINDS = ("typo", "swapped", "phone format", "other domain", "missing")
OTHER_DOMAINS = ("mail.example", "post.example", "web.example")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _typo(rng: random.Random, word: str) -> str:
    """One keyboard slip: a letter replaced, dropped, doubled or two swapped."""
    if len(word) < 3:
        return word + rng.choice(_LETTERS)
    at = rng.randrange(1, len(word) - 1)  # people rarely get the first letter wrong
    slip = rng.randrange(4)
    if slip == 0:
        return word[:at] + rng.choice(_LETTERS) + word[at + 1:]
    if slip == 1:
        return word[:at] + word[at + 1:]
    if slip == 2:
        return word[:at] + word[at] + word[at:]
    return word[:at] + word[at + 1] + word[at] + word[at + 2:]


def _national(phone: str) -> str:
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def _copy(rng: random.Random, person: Person, new_id: int, used: set[str]) -> Person:
    kinds = rng.sample(KINDS, rng.choice((1, 1, 2)))
    fields = person._asdict() | {"id": new_id}
    if "typo" in kinds:
        name = rng.choice(("first_name", "last_name"))
        fields[name] = _typo(rng, fields[name])
    if "swapped" in kinds:
        fields["first_name"], fields["last_name"] = fields["last_name"], fields["first_name"]
    if "phone format" in kinds and fields["phone"]:
        fields["phone"] = _national(fields["phone"])
    email = fields["email"]
    if "missing" in kinds:
        left_out = rng.sample(("email", "phone", "birth_date", "address"), rng.choice((1, 2)))
        for name in left_out:
            if name == "address":
                fields["street"] = fields["postcode"] = None
            else:
                fields[name] = None
    if email and fields["email"]:
        local, _, domain = email.partition("@")
        changed = f"{local}@{rng.choice(OTHER_DOMAINS)}" if "other domain" in kinds else ""
        if not changed or changed in used:
            changed = f"{local[:1].upper()}{local[1:]}@{domain.upper()}"
        fields["email"] = changed if changed not in used else None
        used.add(changed)
    return Person(**fields)


def plant(people: Sequence[Person], *, count: int, seed: int, first_id: int
          ) -> tuple[list[Person], list[tuple[int, int]]]:
    """``count`` duplicates of customers drawn from ``people``, numbered from ``first_id``,
    and the true pairs ``(original id, copy id)``."""
    rng = random.Random(seed)
    ordered = sorted(people, key=lambda person: person.id)
    originals = rng.sample(ordered, min(count, len(ordered)))
    used = {person.email for person in ordered if person.email}
    copies = [_copy(rng, person, first_id + index, used)
              for index, person in enumerate(originals)]
    return copies, [(original.id, copy.id) for original, copy in zip(originals, copies,
                                                                      strict=True)]


def plant_into(engine: Engine, *, count: int, seed: int) -> list[tuple[int, int]]:
    """Plant ``count`` duplicates among the live customers of ``engine``; the true pairs."""
    people = live_people(engine)
    table = table_of(Customer)
    with write_session(engine) as session:
        top = session.execute(select(table.c.id).order_by(table.c.id.desc()).limit(1)).scalar()
        copies, pairs = plant(people, count=count, seed=seed, first_id=(top or 0) + 1)
        if not copies:
            return pairs
        now = utcnow()
        rows = [person._asdict() | {"status": "lead", "source": "import", "created_at": now,
                                    "updated_at": now, "version": 1} for person in copies]
        session.execute(insert(table), rows)
        reset_sequence(session.connection(), table)
        with customers_changed(session, [copy.id for copy in copies]):
            pass
    return pairs
