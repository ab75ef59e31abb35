"""Realistic, deterministic demo data: ``python -m db.demo --customers N --seed S``.

What makes it realistic: names, streets, cities and postcodes that fit each customer's
country; emails derived from the name (on reserved example domains); a minority of customers
bringing most of the revenue (lognormal activity); seasonality with a December peak; a share
of customers who stop buying; support contacts and NPS answers that follow orders; consent
that is mixed and sometimes withdrawn.

What makes it fast: every column is drawn with NumPy for a chunk of customers at once and
loaded through :mod:`db.core.bulk` (executemany / COPY), never one ORM object per row.

The same ``seed`` and ``as_of`` always give the same rows. Data ends just before midnight
(UTC) at the start of ``as_of``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
from faker import Faker
from sqlalchemy import Connection, Engine, func, select

from db.core.bulk import (
    checks_deferred,
    indexes_deferred,
    insert_rows,
    reset_sequence,
    rollback_journal,
)
from db.core.engine import get_engine
from db.demo import vocabulary as vocab
from db.kpi import buyer_cells, sales_cells
from db.kpi.engagement_cells import NPS_CELLS
from db.kpi.recency_cells import RECENCY_CELLS
from db.migrate import upgrade
from db.models import (
    CHANNEL_BITS,
    CONSENT_PURPOSES,
    INTERACTION_KINDS,
    NPS_BANDS,
    ConsentEvent,
    Customer,
    CustomerMonth,
    CustomerSummary,
    CustomerTag,
    DailyCategories,
    DailyChannels,
    DailyInteractions,
    DailySales,
    DailyTotals,
    Feedback,
    Interaction,
    Order,
    PaymentMethod,
    Tag,
    User,
)
from db.search import index as search_index
from db.search.index import fold_name

CHUNK_SIZE = 50_000
HISTORY_YEARS = 4
SECONDS_PER_DAY = 86_400
CONSENT_RATES = {"email_marketing": 0.62, "sms": 0.28, "profiling": 0.45,
                 "third_party_sharing": 0.12}
ORDER_CHANNEL_WEIGHTS = {"web": 0.45, "store": 0.25, "app": 0.18, "phone": 0.04,
                         "marketplace": 0.08}
NAME_FIRST_COUNTRIES = {"GB", "US", "FR"}  # where the house number precedes the street


# Tables the generator fills, parents first.
_LOADED_MODELS = (Tag, Customer, CustomerTag, Order, Interaction, Feedback, ConsentEvent,
                  PaymentMethod, CustomerSummary, CustomerMonth)


_COUNT_FIELDS = {"customer": "customers", "customer_tag": "customer_tags", "orders": "orders",
                 "interaction": "interactions", "feedback": "feedback",
                 "consent_event": "consent_events", "payment_method": "payment_methods",
                 "customer_summary": "summaries", "customer_months": "kpi_rows",
                 "daily_sales": "kpi_rows",
                 "daily_totals": "kpi_rows", "daily_categories": "kpi_rows",
                 "daily_channels": "kpi_rows", "daily_interactions": "kpi_rows"}


@dataclass(frozen=True)
class _ChunkKpis:
    """A chunk's share of the KPI tables."""

    sales: tuple[np.ndarray, np.ndarray]  # daily_sales cells: coded keys, measures
    contacts: tuple[np.ndarray, np.ndarray]  # daily_interactions cells, the same way
    who: tuple[np.ndarray, ...]  # daily_customers memberships, as arrays


class DemoDataError(Exception):
    """The demo data cannot be loaded as asked (for example: the database is not empty)."""


@dataclass
class DemoCounts:
    """How many rows each table received, and how long it took."""

    customers: int = 0
    orders: int = 0
    interactions: int = 0
    feedback: int = 0
    consent_events: int = 0
    payment_methods: int = 0
    customer_tags: int = 0
    summaries: int = 0  # derived rows (customer_summary), not counted in ``rows``
    kpi_rows: int = 0  # derived rows too (the KPI tables filled from the arrays)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return (self.customers + self.orders + self.interactions + self.feedback
                + self.consent_events + self.payment_methods + self.customer_tags)


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
def _name_pools(seed: int) -> dict[str, _NamePool]:
    """A few hundred names and streets per country, drawn once from Faker with ``seed``.

    Cached because Faker needs about a second and a half for them; the pools are read-only.
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


class _DayDistribution:
    """Draws order days between two dates with the shop's seasonality and weekend bump."""

    def __init__(self, start: date, end: date) -> None:
        days = np.arange(np.datetime64(start), np.datetime64(end))
        months = days.astype("datetime64[M]").astype(int) % 12
        weekdays = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
        weights = np.asarray(vocab.MONTH_SEASONALITY)[months] * np.where(weekdays >= 5, 1.15, 1)
        self.start = np.datetime64(start, "D")
        self.cdf = np.concatenate([[0.0], np.cumsum(weights)])

    def draw(self, rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Fractional day offsets from ``start``, one in each ``[low, high)`` window."""
        positions = np.arange(len(self.cdf), dtype=float)
        low_mass = np.interp(low, positions, self.cdf)
        high_mass = np.interp(high, positions, self.cdf)
        mass = low_mass + rng.random(len(low)) * (high_mass - low_mass)
        return np.interp(mass, self.cdf, positions)


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
    """Mobile numbers in E.164 that follow the country's numbering plan."""
    import phonenumbers

    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    keep = 3 if country == "US" else 2
    random_digits = len(national) - keep
    tails = rng.integers(0, 10**random_digits, count)
    prefix = f"+{example.country_code}{national[:keep]}"
    return np.array([f"{prefix}{tail:0{random_digits}d}" for tail in tails], dtype=object)


class _Timestamps:
    """Converts NumPy datetimes into the text each engine's bulk path stores."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def __call__(self, values: np.ndarray) -> list[str]:
        microseconds = values.astype("datetime64[us]")
        if self.dialect == "postgresql":
            return np.datetime_as_string(microseconds, unit="us", timezone="UTC").tolist()
        text = np.datetime_as_string(microseconds, unit="us").astype("U26")
        text.view("U1").reshape(-1, 26)[:, 10] = " "  # ISO "T" → SQLAlchemy's SQLite format
        return text.tolist()


def _newest(owner: np.ndarray, at: np.ndarray, size: int, *, oldest: bool = False
            ) -> np.ndarray:
    """Per owner (0..size-1), the index of its newest row (ties: the later row) or -1.

    Rows are inserted in list order, so "later row" is "higher id", as in db.derived.summary.
    """
    found = np.full(size, -1, dtype=np.int64)
    if not len(owner):
        return found
    order = np.lexsort((np.arange(len(owner)), at, owner))
    if oldest:
        order = order[::-1]
    owners = owner[order]
    is_last = np.append(owners[1:] != owners[:-1], True)
    found[owners[is_last]] = order[is_last]
    return found


def _summary(ids: np.ndarray, orders: dict, interactions: dict, feedback: dict,
             consent: dict, stamp: Callable[[np.ndarray], list[str]]) -> dict[str, list]:
    """The chunk's ``customer_summary`` rows, computed from the generated arrays.

    The same figures as :func:`db.derived.summary.summary_rows` (a test compares the two), but
    without reading ten million orders back from the database.
    """
    size = len(ids)

    def owner_of(customer_ids: list[int] | np.ndarray) -> np.ndarray:
        return np.asarray(customer_ids, dtype=np.int64) - ids[0]

    def timestamps(at: np.ndarray, rows: np.ndarray) -> list[object]:
        texts = np.array(stamp(at[np.maximum(rows, 0)]), dtype=object) if len(at) \
            else np.full(size, None, dtype=object)
        texts[rows < 0] = None
        return texts.tolist()

    owner = orders["owner"]
    spend = np.bincount(owner, weights=np.round(orders["amount"] * 100), minlength=size)
    nps_rows = _newest(owner_of(feedback["customer_id"]), feedback["at"], size)
    nps = np.asarray(feedback["nps_score"], dtype=object)
    summary: dict[str, list] = {
        "customer_id": ids.tolist(),
        "order_count": np.bincount(owner, minlength=size).tolist(),
        "spend_cents": np.round(spend).astype(np.int64).tolist(),
        "gross_cents": np.round(np.bincount(owner, weights=np.round(
            np.maximum(orders["amount"], 0) * 100), minlength=size)).astype(np.int64).tolist(),
        "first_order_at": timestamps(orders["at"], orders["first"]),
        "last_order_at": timestamps(orders["at"], _newest(owner, orders["at"], size)),
        "last_interaction_at": timestamps(interactions["at"], _newest(
            owner_of(interactions["customer_id"]), interactions["at"], size)),
        "latest_nps": [nps[row] if row >= 0 else None for row in nps_rows],
    }
    purposes = np.asarray(consent["purpose"], dtype=object)
    granted = np.asarray(consent["granted"], dtype=bool)
    consent_owner = owner_of(consent["customer_id"])
    for purpose in CONSENT_PURPOSES:
        rows = np.flatnonzero(purposes == purpose)
        newest = _newest(consent_owner[rows], consent["at"][rows], size)
        current = np.zeros(size, dtype=bool)
        current[newest >= 0] = granted[rows[newest[newest >= 0]]]
        summary["consent_" + purpose] = current.tolist()
    return summary


@lru_cache(maxsize=100_000)
def _email_part(name: str) -> str:
    """A name as an e-mail address spells it: folded, letters and digits only (names
    repeat, so each is worked out once)."""
    return "".join(ch for ch in fold_name(name) if ch.isalnum())


def _profile_copies(customers: dict[str, list], owner: np.ndarray,
                    channel: np.ndarray) -> dict[str, list]:
    """The summary's channel bits and its copies of the customers' profile fields, as
    :func:`db.derived.summary.profile_copies` computes them."""
    size = len(customers["id"])
    bits = np.zeros(size, dtype=np.int64)
    for name, bit in CHANNEL_BITS.items():
        bits[np.unique(owner[channel == name])] |= bit
    return {"channels": bits.tolist(), "live": [True] * size,
            **{name: customers[name] for name in ("country", "status", "gender", "birth_date",
                                                  "income_band", "source", "created_at")},
            "has_email": [bool(value) for value in customers["email"]],
            "has_phone": [bool(value) for value in customers["phone"]]}


# The KPI tables' text keys as codes in fixed vocabularies, so that a cell is one integer
# (mixed radix: day number, then country, channel or kind, category) until it is inserted.
_CHANNELS = tuple(ORDER_CHANNEL_WEIGHTS)
_COUNTRIES = tuple(country.code for country in vocab.COUNTRIES)
_CATEGORIES = tuple(vocab.CATEGORIES)
_KINDS = tuple(INTERACTION_KINDS)


_MONTH_SPAN = 1 << 16  # more months since 1970 than any timestamp has, to pack keys


def _grouped(key: np.ndarray, measures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys and each one's column sums of ``measures`` (rows × columns).
    Grouping 500,000 rows this way takes about 50 ms; pandas' groupby over the text took
    1.0 s."""
    group, distinct = pd.factorize(key)
    sums = np.column_stack([np.bincount(group, weights=measures[:, column],
                                        minlength=len(distinct))
                            for column in range(measures.shape[1])])
    return np.asarray(distinct, dtype=np.int64), np.rint(sums).astype(np.int64)


def _day_numbers(at: np.ndarray) -> np.ndarray:
    return at.astype("datetime64[D]").astype(np.int64)


def _daily_sales(orders: dict, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's share of ``daily_sales`` (keys, measures): the same cells as
    :func:`db.kpi.sales_cells.cells` (a test compares the two)."""
    owner, first = orders["owner"], orders["first"]
    new_customer = np.zeros(len(owner), dtype=np.int64)
    new_customer[first[first >= 0]] = 1
    amount = orders["amount"]
    where = pd.Categorical(country, categories=_COUNTRIES).codes.astype(np.int64)[owner]
    key = ((_day_numbers(orders["at"]) * len(_COUNTRIES) + where) * len(_CHANNELS)
           + orders["channel_code"]) * len(_CATEGORIES) + orders["category_code"]
    return _grouped(key, np.column_stack([
        amount >= 0, amount < 0, np.round(amount * 100), new_customer]).astype(np.float64))


def _customer_months(orders: dict) -> dict[str, list]:
    """The chunk's ``customer_months`` rows: the same as
    :func:`db.kpi.month_cells.month_cells` (a test compares the two). Chunks hold whole
    customers, so no row spans two chunks."""
    sold = orders["amount"] > 0
    month = orders["at"][sold].astype("datetime64[M]").astype(np.int64)  # months since 1970
    keys, sums = _grouped(orders["customer_id"][sold] * _MONTH_SPAN + month,
                          np.round(orders["amount"][sold] * 100)[:, np.newaxis])
    order = np.argsort(keys)  # in primary key order, which inserts quicker
    customer, month = np.divmod(keys[order], _MONTH_SPAN)
    if not len(month):
        return {"customer_id": [], "month": [], "gross_cents": []}
    # Each month's text once: formatting every row's took 0.4 s per 100,000 customers.
    months = np.arange(month.min(), month.max() + 1).astype("datetime64[M]")
    texts = np.datetime_as_string(months, unit="D").astype(object)
    return {"customer_id": customer.tolist(), "month": texts[month - month.min()].tolist(),
            "gross_cents": sums[order, 0].tolist()}


def _daily_contacts(interactions: dict, ids: np.ndarray, country: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's share of ``daily_interactions`` (keys, counts)."""
    owner = np.asarray(interactions["customer_id"], dtype=np.int64) - ids[0]
    where = pd.Categorical(country, categories=_COUNTRIES).codes.astype(np.int64)[owner]
    kind = pd.Categorical(interactions["kind"], categories=_KINDS).codes.astype(np.int64)
    key = (_day_numbers(interactions["at"]) * len(_COUNTRIES) + where) * len(_KINDS) + kind
    return _grouped(key, np.ones((len(key), 1)))


def _memberships(orders: dict, country: np.ndarray) -> tuple[np.ndarray, ...]:
    """The chunk's rows of :func:`db.kpi.buyer_cells.memberships` as arrays: customer id,
    day, country, orders of zero or more that day, whether the first order was that day."""
    owner = orders["owner"]
    day = orders["at"].astype("datetime64[D]")
    first_row = orders["first"]
    first_day = np.full(len(country), np.datetime64("NaT"), dtype="datetime64[D]")
    has = first_row >= 0
    first_day[has] = day[first_row[has]]
    # One key per customer and day: day numbers stay below 100,000 until the year 2243.
    keys, counted = _grouped(owner.astype(np.int64) * 100_000 + _day_numbers(orders["at"]),
                             (orders["amount"] >= 0).astype(np.float64)[:, None])
    who, numbers = np.divmod(keys, 100_000)
    days = numbers.astype("datetime64[D]")
    customer_id = np.asarray(orders["customer_id"], dtype=np.int64)
    first_id = int(customer_id[0] - owner[0]) if len(owner) else 0
    return (first_id + who, days, np.asarray(country, dtype="U2")[who],
            counted[:, 0], (first_day[who] == days).astype(np.int64))


def _nullable(values: np.ndarray, missing: np.ndarray) -> list[object]:
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


class DemoGenerator:
    """Builds the demo rows chunk by chunk; see the module docstring for what they look like."""

    def __init__(self, *, seed: int, as_of: date, orders_per_customer: float,
                 staff_ids: list[int]) -> None:
        self.seed = seed
        self.as_of = as_of
        self.orders_per_customer = orders_per_customer
        self.staff_ids = np.asarray(staff_ids or [0], dtype=np.int64)
        self.has_staff = bool(staff_ids)
        self.start = date(as_of.year - HISTORY_YEARS, as_of.month, 1)
        self.span_days = (as_of - self.start).days
        self.days = _DayDistribution(self.start, as_of)
        self.pools = _name_pools(seed)
        self.used_emails: set[str] = set()
        self.epoch = np.datetime64(self.start, "s")

    def load(self, connection_factory: Callable[[], Connection], customers: int,
             progress: Callable[[str], None] | None = None) -> DemoCounts:
        """Insert ``customers`` customers and everything around them, in one transaction.

        Chunks are drawn and inserted in turn on this thread. Drawing the next chunk on a
        worker thread was slower (25.4 s against 21.4 s for 100,000 customers): the driver
        gives up the GIL for every row it steps, and a busy worker keeps it for a whole
        switch interval each time.
        """
        counts = DemoCounts()
        started = time.perf_counter()
        tables = [model.__table__ for model in _LOADED_MODELS]  # type: ignore[attr-defined]
        with connection_factory() as connection, rollback_journal(connection), \
                connection.begin(), indexes_deferred(connection, tables), \
                checks_deferred(connection, tables):
            self._load_tags(connection)
            dialect = connection.dialect.name
            search_table = search_index.bulk_table(dialect)
            kpis = []
            for first_id in range(1, customers + 1, CHUNK_SIZE):
                size = min(CHUNK_SIZE, customers - first_id + 1)
                chunk_tables, search_rows, chunk_kpis = self._chunk_tables(dialect, first_id,
                                                                           size)
                for model, columns in chunk_tables:
                    self._insert(connection, model, columns, counts)
                insert_rows(connection, search_table, [c.name for c in search_table.c],
                            search_rows)
                kpis.append(chunk_kpis)
                if progress:
                    progress(f"{first_id + size - 1:,} of {customers:,} customers")
            self._load_kpis(connection, kpis, counts)
            for table in tables:
                reset_sequence(connection, table)
        counts.seconds = time.perf_counter() - started
        return counts

    def _load_kpis(self, connection: Connection, kpis: list[_ChunkKpis],
                   counts: DemoCounts) -> None:
        """The KPI tables (:mod:`db.kpi.tables`), from every chunk's share: chunks share days,
        so the shares are summed first. Computed from the arrays, as the rebuild queries
        over the loaded rows took 28 s for a million customers; the two smallest tables
        use those queries (4 s)."""
        sales = _grouped(*(np.concatenate(parts) for parts in zip(
            *(kpi.sales for kpi in kpis), strict=True)))
        category = sales[0] % len(_CATEGORIES)
        channel = sales[0] // len(_CATEGORIES) % len(_CHANNELS)
        contacts = _grouped(*(np.concatenate(parts) for parts in zip(
            *(kpi.contacts for kpi in kpis), strict=True)))
        place = sales[0] // (len(_CATEGORIES) * len(_CHANNELS))  # day and country
        tables = (
            (DailySales, sales, {"channel": (_CHANNELS, len(_CATEGORIES)),
                                 "category": (_CATEGORIES, 1)}),
            (DailyTotals, _grouped(place, sales[1]), {}),
            (DailyCategories, _grouped(place * len(_CATEGORIES) + category, sales[1]),
             {"category": (_CATEGORIES, 1)}),
            (DailyChannels, _grouped(place * len(_CHANNELS) + channel, sales[1]),
             {"channel": (_CHANNELS, 1)}),
        )
        for model, (keys, sums), texts in tables:
            columns = self._key_columns(keys, texts)
            columns |= {name: sums[:, index].tolist()
                        for index, name in enumerate(sales_cells.MEASURES)}
            self._insert(connection, model, columns, counts)
        columns = self._key_columns(contacts[0], {"kind": (_KINDS, 1)})
        columns["interactions"] = contacts[1][:, 0].tolist()
        self._insert(connection, DailyInteractions, columns, counts)
        # Who ordered: one pass over every chunk's rows (the sets span chunks).
        sets = buyer_cells.cells_from(
            *(np.concatenate(parts) for parts in zip(*(kpi.who for kpi in kpis),
                                                     strict=True)))
        for table, rows in ((buyer_cells.TABLE, buyer_cells.rows_of(sets)),
                            (buyer_cells.MONTHLY, buyer_cells.rows_of(
                                buyer_cells.by_month(sets), "month")),
                            (buyer_cells.WEEKLY, buyer_cells.week_rows(
                                buyer_cells.by_week(sets)))):
            if rows:
                connection.execute(table.insert(), rows)
        for table in (NPS_CELLS, RECENCY_CELLS):
            table.rebuild(connection)

    @staticmethod
    def _key_columns(keys: np.ndarray, texts: dict[str, tuple[tuple[str, ...], int]]
                     ) -> dict[str, list]:
        """The day and country of coded cell keys, and the text columns ``texts`` names
        (vocabulary, and the product of the digit sizes after it)."""
        rest = keys
        columns = {}
        for name, (vocabulary, after) in texts.items():
            columns[name] = np.asarray(vocabulary, dtype=object)[
                (rest // after) % len(vocabulary)].tolist()
        width = int(np.prod([len(vocabulary) for vocabulary, _ in texts.values()],
                            dtype=np.int64)) if texts else 1
        place = rest // width
        day, country = np.divmod(place, len(_COUNTRIES))
        columns["day"] = np.datetime_as_string(day.astype("datetime64[D]"), unit="D").tolist()
        columns["country"] = np.asarray(_COUNTRIES, dtype=object)[country].tolist()
        return columns

    def _load_tags(self, connection: Connection) -> None:
        rows = [(index + 1, name) for index, name in enumerate(vocab.INTERESTS)]
        insert_rows(connection, Tag.__table__, ("id", "name"), rows)  # type: ignore[attr-defined]

    def _chunk_tables(self, dialect: str, first_id: int, size: int
                      ) -> tuple[list[tuple[type, dict[str, list]]], list[tuple[int, str]],
                                 _ChunkKpis]:
        """Every row of one chunk of customers, as (model, column → values) in load order,
        the customers' search index rows (id, text) and their share of the daily tables."""
        rng = np.random.default_rng([self.seed, first_id])
        stamp = _Timestamps(dialect)
        ids = np.arange(first_id, first_id + size, dtype=np.int64)
        people = self._people(rng, ids)
        orders = self._orders(rng, people)
        # Each customer's first order (its row, or -1): the summary and the KPI tables use it.
        orders["first"] = _newest(orders["owner"], orders["at"], size, oldest=True)
        status = self._lifecycle_status(people, orders)
        customers = {
            "id": ids.tolist(), "first_name": people["first"].tolist(),
            "last_name": people["last"].tolist(), "email": people["email"],
            "phone": people["phone"], "street": people["street"].tolist(),
            "postcode": people["postcode"].tolist(), "city": people["city"].tolist(),
            "country": people["country"].tolist(), "birth_date": people["birth_date"],
            "gender": people["gender"].tolist(), "occupation": people["occupation"],
            "income_band": people["income_band"], "preferred_channel": people["channel"],
            "status": status.tolist(), "source": people["source"].tolist(),
            "external_ref": [f"C-{i:08d}" for i in ids],
            "created_at": stamp(people["created"]), "updated_at": stamp(people["created"]),
            "version": [1] * size,
        }
        tag_customers, tag_ids = self._tags(rng, ids)
        order_rows = {
            "customer_id": orders["customer_id"].tolist(), "ordered_at": stamp(orders["at"]),
            "amount": orders["amount"].tolist(), "currency": ["EUR"] * len(orders["amount"]),
            "category": orders["category"].tolist(), "channel": orders["channel"].tolist(),
            "product": orders["product"].tolist(), "quantity": orders["quantity"].tolist(),
        }
        interactions = self._interactions(rng, people, orders)
        contacts = _daily_contacts(interactions, ids, people["country"])
        feedback = self._feedback(rng, people, orders)
        consent = self._consent(rng, people)
        summary = _summary(ids, orders, interactions, feedback, consent, stamp)
        summary |= _profile_copies(customers, orders["owner"], orders["channel"])
        for table in (interactions, feedback, consent):
            table["at"] = stamp(table["at"])
        cards = self._payment_methods(rng, people)
        cards["created_at"] = stamp(cards["created_at"])
        search_rows = list(zip(customers["id"], map(
            search_index.compose, customers["first_name"], customers["last_name"],
            customers["email"], customers["phone"], customers["external_ref"],
            customers["city"]), strict=True))
        return [(Customer, customers),
                (CustomerTag, {"customer_id": tag_customers, "tag_id": tag_ids}),
                (Order, order_rows), (Interaction, interactions), (Feedback, feedback),
                (ConsentEvent, consent), (PaymentMethod, cards), (CustomerSummary, summary),
                (CustomerMonth, _customer_months(orders))], search_rows, _ChunkKpis(
            sales=_daily_sales(orders, people["country"]), contacts=contacts,
            who=_memberships(orders, people["country"]))

    @staticmethod
    def _insert(connection: Connection, model: type, columns: dict[str, list],
                counts: DemoCounts) -> None:
        names = tuple(columns)
        rows = list(zip(*(columns[name] for name in names), strict=True))
        if rows:
            insert_rows(connection, model.__table__, names, rows)  # type: ignore[attr-defined]
        table = model.__tablename__  # type: ignore[attr-defined]
        setattr(counts, _COUNT_FIELDS[table], getattr(counts, _COUNT_FIELDS[table]) + len(rows))

    # -- people --------------------------------------------------------------------------

    def _people(self, rng: np.random.Generator, ids: np.ndarray) -> dict:
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
            pool = self.pools[profile.code]
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

        created_offset = self.span_days * (rng.random(size) ** 0.75)  # more sign-ups lately
        created = self.epoch + (created_offset * SECONDS_PER_DAY).astype("timedelta64[s]")
        age_days = np.clip(rng.normal(43, 14, size), 18, 92) * 365.25
        birth = (np.datetime64(self.as_of) - age_days.astype("timedelta64[D]")).astype(str)

        return {
            "ids": ids, "country": country, "gender": gender, "first": first, "last": last,
            "street": street, "city": city, "postcode": postcode,
            "email": self._emails(rng, ids, first, last),
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
            "created": created,
            "created_days": created_offset,
            # Latent traits that shape behaviour: how much they buy, whether they stop.
            "activity": rng.lognormal(0.0, 1.0, size),
            "is_lead": rng.random(size) < 0.12,
            "churns": rng.random(size) < 0.35,
            "satisfaction": rng.normal(0.0, 1.0, size),
            "favourite": rng.choice(len(vocab.CATEGORIES), size,
                                    p=np.asarray(vocab.CATEGORY_WEIGHTS)),
            "shop_channel": rng.choice(len(ORDER_CHANNEL_WEIGHTS), size,
                                       p=list(ORDER_CHANNEL_WEIGHTS.values())),
        }

    def _emails(self, rng: np.random.Generator, ids: np.ndarray, first: np.ndarray,
                last: np.ndarray) -> list[str | None]:
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
            if email in self.used_emails:
                email = f"{local}{customer_id}@{vocab.EMAIL_DOMAINS[domains[index]]}"
            self.used_emails.add(email)
            emails.append(email)
        return emails

    def _tags(self, rng: np.random.Generator, ids: np.ndarray) -> tuple[list[int], list[int]]:
        """Interests with a long tail: the first tags are common, the last rare."""
        customer_ids: list[np.ndarray] = []
        tag_ids: list[np.ndarray] = []
        for rank in range(len(vocab.INTERESTS)):
            chosen = ids[rng.random(len(ids)) < 0.3 / (rank + 1) ** 0.6]
            customer_ids.append(chosen)
            tag_ids.append(np.full(len(chosen), rank + 1))
        return np.concatenate(customer_ids).tolist(), np.concatenate(tag_ids).tolist()

    # -- behaviour ------------------------------------------------------------------------

    def _orders(self, rng: np.random.Generator, people: dict) -> dict:
        size = len(people["ids"])
        start = people["created_days"]
        end = np.where(people["churns"], start + rng.random(size) * (self.span_days - start),
                       self.span_days)
        window = np.maximum(end - start, 0.5)
        rate = np.where(people["is_lead"], 0.0, people["activity"] * window ** 0.85)
        rate *= self.orders_per_customer * size / max(rate.sum(), 1e-9)
        per_customer = rng.poisson(rate)
        owner = np.repeat(np.arange(size), per_customer)
        count = len(owner)

        day = self.days.draw(rng, start[owner], end[owner])
        # Shoppers buy mostly in the evening: a time of day weighted towards 19:00-21:00.
        seconds = np.clip(rng.normal(19.5, 3.5, count), 7, 23.98) * 3600
        at = self.epoch + (np.floor(day) * SECONDS_PER_DAY + seconds).astype("timedelta64[s]")
        at = np.maximum(at, people["created"][owner] + np.timedelta64(60, "s"))
        at = np.minimum(at, np.datetime64(self.as_of, "s") - np.timedelta64(1, "s"))

        names = list(vocab.CATEGORIES)
        category_index = np.where(rng.random(count) < 0.5, people["favourite"][owner],
                                  rng.choice(len(names), count,
                                             p=np.asarray(vocab.CATEGORY_WEIGHTS)))
        prices = np.array([vocab.CATEGORIES[name][0] for name in names])
        product = np.empty(count, dtype=object)
        for index, name in enumerate(names):
            rows = np.flatnonzero(category_index == index)
            products = np.array(vocab.CATEGORIES[name][1], dtype=object)
            product[rows] = products[rng.integers(0, len(products), len(rows))]
        quantity = np.minimum(rng.geometric(0.72, count), 6)
        amount = (prices[category_index] * rng.lognormal(0, 0.45, count) * quantity
                  * people["activity"][owner] ** 0.25)
        refund = rng.random(count) < 0.01
        amount = np.round(np.where(refund, -amount, amount), 2)

        channels = np.array(_CHANNELS, dtype=object)
        channel_index = np.where(rng.random(count) < 0.7, people["shop_channel"][owner],
                                 rng.choice(len(_CHANNELS), count,
                                            p=list(ORDER_CHANNEL_WEIGHTS.values())))
        return {
            "owner": owner, "customer_id": people["ids"][owner], "at": at, "amount": amount,
            "category": np.array(names, dtype=object)[category_index], "product": product,
            "quantity": quantity, "channel": channels[channel_index],
            "per_customer": per_customer, "category_code": category_index,
            "channel_code": channel_index,
        }

    def _lifecycle_status(self, people: dict, orders: dict) -> np.ndarray:
        """lead (never bought), active (<180 days), inactive (<365 days), churned (older)."""
        last = np.full(len(people["ids"]), np.datetime64("NaT"), dtype="datetime64[s]")
        if len(orders["at"]):
            order = np.lexsort((orders["at"], orders["owner"]))
            owners = orders["owner"][order]
            is_last = np.append(owners[1:] != owners[:-1], True)
            last[owners[is_last]] = orders["at"][order][is_last]
        days_since = (np.datetime64(self.as_of, "s") - last) / np.timedelta64(1, "D")
        status = np.where(days_since < 180, "active",
                          np.where(days_since < 365, "inactive", "churned")).astype(object)
        status[np.isnat(last)] = "lead"
        return status

    def _staff(self, rng: np.random.Generator, count: int) -> list[int | None]:
        if not self.has_staff:
            return [None] * count
        return self.staff_ids[rng.integers(0, len(self.staff_ids), count)].tolist()

    def _interactions(self, rng: np.random.Generator, people: dict, orders: dict) -> dict:
        # Support contacts follow about one order in five, within days of it.
        follow = np.flatnonzero(rng.random(len(orders["at"])) < 0.2)
        support_kind = rng.choice(np.array(["email", "call", "ticket"]), len(follow),
                                  p=[0.4, 0.3, 0.3])
        support_at = orders["at"][follow] + (rng.exponential(3.0, len(follow))
                                             * SECONDS_PER_DAY).astype("timedelta64[s]")
        # Outreach and notes happen throughout the relationship.
        outreach_count = rng.poisson(0.6, len(people["ids"]))
        owner = np.repeat(np.arange(len(people["ids"])), outreach_count)
        outreach_kind = rng.choice(np.array(["note", "email", "call", "meeting"]), len(owner),
                                   p=[0.4, 0.4, 0.15, 0.05])
        offset = people["created_days"][owner] + rng.random(len(owner)) * (
            self.span_days - people["created_days"][owner])
        outreach_at = self.epoch + (offset * SECONDS_PER_DAY).astype("timedelta64[s]")

        kind = np.concatenate([support_kind, outreach_kind]).astype(object)
        at = np.minimum(np.concatenate([support_at, outreach_at]),
                        np.datetime64(self.as_of, "s") - np.timedelta64(1, "s"))
        customer_id = np.concatenate([orders["customer_id"][follow], people["ids"][owner]])
        direction = np.concatenate([
            np.full(len(follow), "inbound", dtype=object),
            np.where(outreach_kind == "note", "internal", "outbound").astype(object)])
        subject = np.empty(len(kind), dtype=object)
        for name, options in vocab.INTERACTION_SUBJECTS.items():
            rows = np.flatnonzero(kind == name)
            subject[rows] = np.array(options, dtype=object)[rng.integers(0, len(options),
                                                                         len(rows))]
        outcome = np.array(vocab.INTERACTION_OUTCOMES, dtype=object)[
            rng.integers(0, len(vocab.INTERACTION_OUTCOMES), len(kind))]
        outcome[kind == "note"] = None
        return {
            "customer_id": customer_id.tolist(), "at": at, "kind": kind.tolist(),
            "direction": direction.tolist(), "subject": subject.tolist(),
            "summary": [None] * len(kind), "staff_user_id": self._staff(rng, len(kind)),
            "outcome": outcome.tolist(),
        }

    def _feedback(self, rng: np.random.Generator, people: dict, orders: dict) -> dict:
        asked = np.flatnonzero(rng.random(len(orders["at"])) < 0.07)
        owner = orders["owner"][asked]
        mood = people["satisfaction"][owner] - 0.8 * people["churns"][owner]
        score = np.clip(np.round(8.2 + 1.8 * mood + rng.normal(0, 0.8, len(asked))), 0, 10)
        at = np.minimum(
            orders["at"][asked] + rng.integers(2, 11, len(asked)).astype("timedelta64[D]"),
            np.datetime64(self.as_of, "s") - np.timedelta64(1, "s"))
        group = np.select([score >= low for low, _ in NPS_BANDS.values()], list(NPS_BANDS), "")
        comment: list[str | None] = []
        choices = rng.integers(0, 4, len(asked))
        for index, name in enumerate(group):
            text = vocab.FEEDBACK_COMMENTS[name][choices[index]]
            comment.append(text or None)
        return {"customer_id": orders["customer_id"][asked].tolist(), "at": at,
                "nps_score": score.astype(int).tolist(), "comment": comment}

    def _consent(self, rng: np.random.Generator, people: dict) -> dict:
        """Grants at sign-up, and some email-marketing withdrawals later."""
        size = len(people["ids"])
        created = people["created"]
        years = created.astype("datetime64[Y]").astype(int) + 1970
        notices = np.full(size, vocab.NOTICE_VERSIONS[0][1], dtype=object)
        for year, version in vocab.NOTICE_VERSIONS:
            notices[years >= year] = version
        source = np.array([vocab.CONSENT_SOURCES[s] for s in people["source"]], dtype=object)
        parts: dict[str, list[np.ndarray]] = {key: [] for key in
                                              ("customer", "purpose", "granted", "at", "source",
                                               "notice")}

        def add(rows: np.ndarray, purpose: str, granted: bool, at: np.ndarray) -> None:
            parts["customer"].append(people["ids"][rows])
            parts["purpose"].append(np.full(len(rows), purpose, dtype=object))
            parts["granted"].append(np.full(len(rows), granted))
            parts["at"].append(at)
            parts["source"].append(source[rows])
            parts["notice"].append(notices[rows])

        for purpose in CONSENT_PURPOSES:
            rows = np.flatnonzero(rng.random(size) < CONSENT_RATES[purpose])
            add(rows, purpose, True, created[rows])
            if purpose == "email_marketing":
                withdrawn = rows[rng.random(len(rows)) < 0.12]
                later = people["created_days"][withdrawn] + rng.random(len(withdrawn)) * (
                    self.span_days - people["created_days"][withdrawn])
                add(withdrawn, purpose, False,
                    self.epoch + (later * SECONDS_PER_DAY).astype("timedelta64[s]"))
        granted = np.concatenate(parts["granted"])
        return {
            "customer_id": np.concatenate(parts["customer"]).tolist(),
            "purpose": np.concatenate(parts["purpose"]).tolist(),
            "granted": granted.tolist(),
            "at": np.concatenate(parts["at"]),
            "source": np.concatenate(parts["source"]).tolist(),
            "notice_version": np.concatenate(parts["notice"]).tolist(),
            "recorded_by_user_id": [None] * len(granted),
        }

    def _payment_methods(self, rng: np.random.Generator, people: dict) -> dict:
        size = len(people["ids"])
        cards = np.where(rng.random(size) < 0.35, 1, 0) + np.where(rng.random(size) < 0.1, 1, 0)
        owner = np.repeat(np.arange(size), cards)
        count = len(owner)
        tokens = rng.integers(0, 2**62, count)
        return {
            "customer_id": people["ids"][owner].tolist(),
            "brand": rng.choice(np.array(vocab.CARD_BRANDS, dtype=object), count,
                                p=[0.55, 0.35, 0.1]).tolist(),
            "last4": [f"{n:04d}" for n in rng.integers(0, 10_000, count)],
            "exp_month": rng.integers(1, 13, count).tolist(),
            "exp_year": (self.as_of.year - 1 + rng.integers(0, 6, count)).tolist(),
            "processor_token": [f"tok_{people['ids'][o]:x}_{t:016x}"
                                for o, t in zip(owner, tokens, strict=True)],
            "created_at": people["created"][owner],
        }


def load_demo_data(engine: Engine, *, customers: int, seed: int, as_of: date | None = None,
                   orders_per_customer: float = 10.0,
                   progress: Callable[[str], None] | None = None) -> DemoCounts:
    """Fill an empty database with demo data; refuses a database that has customers."""
    if customers < 1:
        raise DemoDataError("--customers must be at least 1")
    with engine.connect() as connection:
        existing = connection.execute(select(func.count()).select_from(Customer)).scalar_one()
        staff = connection.execute(select(User.id).order_by(User.id)).scalars().all()
    if existing:
        raise DemoDataError(f"the database already holds {existing:,} customers; demo data "
                            "is only loaded into an empty database")
    generator = DemoGenerator(seed=seed, as_of=as_of or datetime.now(UTC).date(),
                              orders_per_customer=orders_per_customer, staff_ids=list(staff))
    return generator.load(engine.connect, customers, progress)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load realistic demo data into custdb.")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="the day the data ends (default: today, UTC)")
    args = parser.parse_args(argv)
    upgrade()
    try:
        counts = load_demo_data(get_engine(), customers=args.customers, seed=args.seed,
                                as_of=args.as_of, orders_per_customer=args.orders_per_customer,
                                progress=lambda line: print(line, file=sys.stderr))
    except DemoDataError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2
    print(f"Loaded {counts.customers:,} customers, {counts.orders:,} orders, "
          f"{counts.interactions:,} interactions, {counts.feedback:,} feedback answers, "
          f"{counts.consent_events:,} consent events, {counts.payment_methods:,} payment methods "
          f"in {counts.seconds:.1f} s ({counts.rows / counts.seconds:,.0f} rows/s).")
    return 0
