"""Who the demo customers are: names, streets, cities, postcodes, phone numbers and e-mail
addresses that fit each customer's country, and the interests they carry as tags.

Every column is drawn with NumPy for a chunk of customers at once, from name pools that
Faker fills once per seed; the draws depend only on the generator they are given, so the
same seed gives the same people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
from faker import Faker

from db.demo import vocabulary as vocab
from db.derived.search_index import fold_name

NAME_FIRST_COUNTRIES = {"GB", "US", "FR"}  # where the house number precedes the street


@dataclass(frozen=True)
class _NamePool:
    female: np.ndarray
    male: np.ndarray
    last: np.ndarray
    streets: np.ndarray


def _unique(draw: Callable[[], str], count: int) -> np.ndarray:
    seen: dict[str, None] = {}
    for _ in range(count * 4):
        seen.setdefault(draw(), None)
        if len(seen) >= count:
            break
    return np.array(list(seen), dtype=object)


@lru_cache(maxsize=4)
def name_pools(seed: int) -> dict[str, _NamePool]:
    """A few hundred names and streets per country, drawn once from Faker with ``seed``.

    Cached because Faker is slow to draw them (see bench/RESULTS.md); the pools are read-only.
    """
    pools = {}
    for country in vocab.COUNTRIES:
        fake = Faker(country.locale)
        fake.seed_instance(seed)
        pools[country.code] = _NamePool(
            female=_unique(fake.first_name_female, 250),
            male=_unique(fake.first_name_male, 250),
            last=_unique(fake.last_name, 400),
            streets=_unique(fake.street_name, 150),
        )
    return pools


def _pattern(rng: np.random.Generator, pattern: str, count: int) -> np.ndarray:
    """Fill a postcode ``pattern`` (``#`` digit, ``?`` capital letter) ``count`` times."""
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    result = np.full(count, "", dtype=object)
    for char in pattern:
        if char == "#":
            result = result + rng.integers(0, 10, count).astype(str).astype(object)
        elif char == "?":
            result = result + letters[rng.integers(0, len(letters), count)].astype(object)
        else:
            result = result + char
    return result


def _phone_numbers(rng: np.random.Generator, country: str, count: int) -> np.ndarray:
    """Mobile numbers in E.164 that follow the country's numbering plan: the example
    number's leading digits, then random ones. Keeping only two made one German and US
    number in five invalid, so those keep all but the last five digits."""
    import phonenumbers

    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        raise ValueError(f"phonenumbers has no example mobile number for {country}")
    national = str(example.national_number)
    keep = len(national) - 5 if country in ("DE", "US") else 2
    random_digits = len(national) - keep
    # Drawn over the range the demo always drew from, then cut to the digits kept: the
    # generator's stream, and so every other demo value of a seed, stays as it was.
    drawn = len(national) - (3 if country == "US" else 2)
    tails = rng.integers(0, 10**drawn, count) % 10**random_digits
    prefix = f"+{example.country_code}{national[:keep]}"
    return np.array([f"{prefix}{tail:0{random_digits}d}" for tail in tails], dtype=object)


@lru_cache(maxsize=100_000)
def _email_part(name: str) -> str:
    """A name as an e-mail address spells it: folded, letters and digits only (names
    repeat, so each is worked out once)."""
    return "".join(ch for ch in fold_name(name) if ch.isalnum())


def _nullable(values: np.ndarray, missing: np.ndarray) -> list[object]:
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


def draw_people(rng: np.random.Generator, ids: np.ndarray, *, pools: dict[str, _NamePool],
                span_days: int, as_of: date, used_emails: set[str]) -> dict[str, Any]:
    """The customers ``ids``: their profile columns and when they signed up
    (``created_days``, fractional days into the ``span_days`` the data covers). E-mail
    addresses already in ``used_emails`` get the customer id added, and every new one is
    added to it."""
    size = len(ids)
    weights = np.array([c.weight for c in vocab.COUNTRIES])
    country_index = rng.choice(len(vocab.COUNTRIES), size, p=weights / weights.sum())
    gender = rng.choice(np.array(["female", "male", "diverse", "undisclosed"]), size,
                        p=[0.49, 0.47, 0.01, 0.03])
    first = np.empty(size, dtype=object)
    last = np.empty(size, dtype=object)
    street = np.empty(size, dtype=object)
    city = np.empty(size, dtype=object)
    postcode = np.empty(size, dtype=object)
    phone = np.empty(size, dtype=object)
    country = np.empty(size, dtype=object)
    for index, profile in enumerate(vocab.COUNTRIES):
        rows = np.flatnonzero(country_index == index)
        count = len(rows)
        pool = pools[profile.code]
        country[rows] = profile.code
        female = rng.random(count) < np.where(gender[rows] == "male", 0.0,
                                              np.where(gender[rows] == "female", 1.0, 0.5))
        first[rows] = np.where(female, pool.female[rng.integers(0, len(pool.female), count)],
                               pool.male[rng.integers(0, len(pool.male), count)])
        last[rows] = pool.last[rng.integers(0, len(pool.last), count)]
        numbers = rng.integers(1, 180, count).astype(str).astype(object)
        names = pool.streets[rng.integers(0, len(pool.streets), count)]
        street[rows] = (numbers + " " + names if profile.code in NAME_FIRST_COUNTRIES
                        else names + " " + numbers)
        city_index = rng.integers(0, len(profile.cities), count)
        for position, (name, pattern) in enumerate(profile.cities):
            in_city = rows[city_index == position]
            city[in_city] = name
            postcode[in_city] = _pattern(rng, pattern, len(in_city))
        phone[rows] = _phone_numbers(rng, profile.code, count)

    created_offset = span_days * (rng.random(size) ** 0.75)  # more sign-ups lately
    age_days = np.clip(rng.normal(43, 14, size), 18, 92) * 365.25
    birth = (np.datetime64(as_of) - age_days.astype("timedelta64[D]")).astype(str)

    return {
        "ids": ids, "country": country, "gender": gender, "first": first, "last": last,
        "street": street, "city": city, "postcode": postcode,
        "email": _emails(rng, ids, first, last, used_emails),
        "phone": _nullable(phone, rng.random(size) < 0.15),
        "birth_date": _nullable(birth, rng.random(size) < 0.04),
        "occupation": _nullable(rng.choice(np.array(vocab.OCCUPATIONS), size),
                                rng.random(size) < 0.2),
        "income_band": _nullable(
            rng.choice(np.array(["<25k", "25-50k", "50-75k", "75-100k", "100-150k", ">150k"]),
                       size, p=[0.18, 0.3, 0.22, 0.14, 0.1, 0.06]),
            rng.random(size) < 0.1),
        "channel": _nullable(rng.choice(np.array(["email", "phone", "sms", "post"]), size,
                                        p=[0.55, 0.15, 0.22, 0.08]),
                             rng.random(size) < 0.1),
        "source": rng.choice(np.array(["web", "store", "referral", "event", "partner",
                                       "social"]), size,
                             p=[0.45, 0.2, 0.1, 0.05, 0.05, 0.15]),
        "created_days": created_offset,
    }


def _emails(rng: np.random.Generator, ids: np.ndarray, first: np.ndarray, last: np.ndarray,
            used: set[str]) -> list[str | None]:
    styles = rng.integers(0, 4, len(ids))
    domains = rng.integers(0, len(vocab.EMAIL_DOMAINS), len(ids))
    missing = rng.random(len(ids)) < 0.05
    emails: list[str | None] = []
    for index, customer_id in enumerate(ids):
        if missing[index]:
            emails.append(None)
            continue
        given, family = _email_part(first[index]), _email_part(last[index])
        local = (f"{given}.{family}", f"{given}{family}", f"{given[:1]}.{family}",
                 f"{given}_{family}")[styles[index]]
        email = f"{local}@{vocab.EMAIL_DOMAINS[domains[index]]}"
        if email in used:
            email = f"{local}{customer_id}@{vocab.EMAIL_DOMAINS[domains[index]]}"
        used.add(email)
        emails.append(email)
    return emails


def draw_tags(rng: np.random.Generator, ids: np.ndarray) -> tuple[list[int], list[int]]:
    """Interests as (customer ids, tag ids) with a long tail: the first tags are common, the
    last rare. Tag ids are the interests' positions in the vocabulary, from 1."""
    customer_ids: list[np.ndarray] = []
    tag_ids: list[np.ndarray] = []
    for rank in range(len(vocab.INTERESTS)):
        chosen = ids[rng.random(len(ids)) < 0.3 / (rank + 1) ** 0.6]
        customer_ids.append(chosen)
        tag_ids.append(np.full(len(chosen), rank + 1))
    return np.concatenate(customer_ids).tolist(), np.concatenate(tag_ids).tolist()
