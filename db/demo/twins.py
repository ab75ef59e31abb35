"""NumPy twins of the derived tables: a chunk's ``customer_summary`` rows and its share of the
KPI tables, computed from the generated arrays instead of read back from the database.

Each twin computes what its original computes over the loaded rows —
:func:`db.derived.summary.summary_rows`, :func:`db.derived.summary.profile_copies`,
:func:`db.derived.sales_cells.cells`, :func:`db.derived.month_cells.month_cells`,
:func:`db.derived.buyer_cells.memberships`, :mod:`db.derived.ranks`' newest order per category
— and the tests of those modules compare the two after
a demo load. Reading ten million orders back to derive them is far slower (see
bench/RESULTS.md).

The KPI tables' text keys are coded in fixed vocabularies, so that a cell is one integer
(mixed radix: day number, then country, channel or kind, category) until it is inserted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Table

from db.demo import vocabulary as vocab
from db.demo.generator import CHANNELS, Arrays
from db.derived import buyer_cells, sales_cells
from db.derived.models import CHANNEL_BITS
from db.models import CONSENT_PURPOSES, INTERACTION_KINDS, RESTRICTION_KINDS

COUNTRIES = tuple(country.code for country in vocab.COUNTRIES)
CATEGORIES = tuple(vocab.CATEGORIES)
KINDS = tuple(INTERACTION_KINDS)
_MONTH_SPAN = 1 << 16  # more months since 1970 than any timestamp has, to pack keys

Cells = tuple[np.ndarray, np.ndarray]  # coded keys, and each key's measures (rows × columns)


@dataclass(frozen=True)
class ChunkKpis:
    """A chunk's share of the KPI tables."""

    sales: Cells  # daily_sales cells
    contacts: Cells  # daily_interactions cells
    who: tuple[np.ndarray, ...]  # daily_customers memberships, as arrays


def newest(owner: np.ndarray, at: np.ndarray, size: int, *, oldest: bool = False
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


def summary(ids: np.ndarray, orders: Arrays, interactions: Arrays, feedback: Arrays,
            consent: Arrays, stamp: Callable[[np.ndarray], list[str]]) -> dict[str, list]:
    """The chunk's ``customer_summary`` figures, as :func:`db.derived.summary.summary_rows`
    computes them. ``orders["first"]`` is each customer's first order (its row, or -1)."""
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
    nps_rows = newest(owner_of(feedback["customer_id"]), feedback["at"], size)
    nps = np.asarray(feedback["nps_score"], dtype=object)
    rows: dict[str, list] = {
        "customer_id": ids.tolist(),
        "order_count": np.bincount(owner, minlength=size).tolist(),
        "spend_cents": np.round(spend).astype(np.int64).tolist(),
        "gross_cents": np.round(np.bincount(owner, weights=np.round(
            np.maximum(orders["amount"], 0) * 100), minlength=size)).astype(np.int64).tolist(),
        "first_order_at": timestamps(orders["at"], orders["first"]),
        "last_order_at": timestamps(orders["at"], newest(owner, orders["at"], size)),
        "last_interaction_at": timestamps(interactions["at"], newest(
            owner_of(interactions["customer_id"]), interactions["at"], size)),
        "latest_nps": [nps[row] if row >= 0 else None for row in nps_rows],
    }
    purposes = np.asarray(consent["purpose"], dtype=object)
    granted = np.asarray(consent["granted"], dtype=bool)
    consent_owner = owner_of(consent["customer_id"])
    for purpose in CONSENT_PURPOSES:
        chosen = np.flatnonzero(purposes == purpose)
        latest = newest(consent_owner[chosen], consent["at"][chosen], size)
        current = np.zeros(size, dtype=bool)
        current[latest >= 0] = granted[chosen[latest[latest >= 0]]]
        rows["consent_" + purpose] = current.tolist()
    for kind in RESTRICTION_KINDS:  # demo customers have neither objected nor been restricted
        rows[kind] = [False] * size
    return rows


def profile_copies(customers: dict[str, list], owner: np.ndarray,
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


def grouped(key: np.ndarray, measures: np.ndarray) -> Cells:
    """The distinct keys and each one's column sums of ``measures`` (rows × columns).
    Integer keys and ``bincount`` rather than pandas' groupby over the text keys, which is
    many times slower (see bench/RESULTS.md)."""
    group, distinct = pd.factorize(key)
    sums = np.column_stack([np.bincount(group, weights=measures[:, column],
                                        minlength=len(distinct))
                            for column in range(measures.shape[1])])
    return np.asarray(distinct, dtype=np.int64), np.rint(sums).astype(np.int64)


def _day_numbers(at: np.ndarray) -> np.ndarray:
    return at.astype("datetime64[D]").astype(np.int64)


def _codes(values: Sequence[str] | np.ndarray, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Each value's position in ``vocabulary``."""
    return np.asarray(pd.Categorical(np.asarray(values, dtype=np.str_), categories=vocabulary
                                     ).codes, dtype=np.int64)


def daily_sales(orders: Arrays, country: np.ndarray) -> Cells:
    """The chunk's share of ``daily_sales``: the same cells as
    :func:`db.derived.sales_cells.cells`."""
    owner, first = orders["owner"], orders["first"]
    new_customer = np.zeros(len(owner), dtype=np.int64)
    new_customer[first[first >= 0]] = 1
    amount = orders["amount"]
    where = _codes(country, COUNTRIES)[owner]
    key = ((_day_numbers(orders["at"]) * len(COUNTRIES) + where) * len(CHANNELS)
           + orders["channel_code"]) * len(CATEGORIES) + orders["category_code"]
    return grouped(key, np.column_stack([
        amount >= 0, amount < 0, np.round(amount * 100), new_customer]).astype(np.float64))


def customer_months(orders: Arrays) -> dict[str, list]:
    """The chunk's ``customer_months`` rows: the same as
    :func:`db.derived.month_cells.month_cells`. Chunks hold whole customers, so no row spans
    two chunks."""
    sold = orders["amount"] > 0
    month = orders["at"][sold].astype("datetime64[M]").astype(np.int64)  # months since 1970
    keys, sums = grouped(orders["customer_id"][sold] * _MONTH_SPAN + month,
                         np.round(orders["amount"][sold] * 100)[:, np.newaxis])
    order = np.argsort(keys)  # in primary key order, which inserts quicker
    customer, month = np.divmod(keys[order], _MONTH_SPAN)
    if not len(month):
        return {"customer_id": [], "month": [], "gross_cents": []}
    # Each month's text once, rather than formatting every row's (see bench/RESULTS.md).
    months = np.arange(month.min(), month.max() + 1).astype("datetime64[M]")
    texts = np.datetime_as_string(months, unit="D").astype(object)
    return {"customer_id": customer.tolist(), "month": texts[month - month.min()].tolist(),
            "gross_cents": sums[order, 0].tolist()}


def category_buyers(orders: Arrays, country: np.ndarray,
                    stamp: Callable[[np.ndarray], list[str]]) -> dict[str, list]:
    """The chunk's ``category_buyers`` rows: each customer's newest order per category, with
    the customer's country, as :mod:`db.derived.ranks` computes them. Chunks hold whole
    customers, so no row spans two chunks."""
    key = orders["owner"] * len(CATEGORIES) + orders["category_code"]
    if not len(key):
        return {"customer_id": [], "category": [], "country": [], "last_at": []}
    order = np.lexsort((orders["at"], key))  # by customer and category, newest last
    keys = key[order]
    last = order[np.append(keys[1:] != keys[:-1], True)]
    return {"customer_id": orders["customer_id"][last].tolist(),
            "category": orders["category"][last].tolist(),
            "country": np.asarray(country, dtype=object)[orders["owner"][last]].tolist(),
            "last_at": stamp(orders["at"][last])}


def daily_contacts(interactions: Arrays, ids: np.ndarray, country: np.ndarray) -> Cells:
    """The chunk's share of ``daily_interactions`` (keys, counts)."""
    owner = np.asarray(interactions["customer_id"], dtype=np.int64) - ids[0]
    where = _codes(country, COUNTRIES)[owner]
    kind = _codes(interactions["kind"], KINDS)
    key = (_day_numbers(interactions["at"]) * len(COUNTRIES) + where) * len(KINDS) + kind
    return grouped(key, np.ones((len(key), 1)))


def memberships(orders: Arrays, country: np.ndarray) -> tuple[np.ndarray, ...]:
    """The chunk's rows of :func:`db.derived.buyer_cells.memberships` as arrays: customer id,
    day, country, orders of zero or more that day, whether the first order was that day."""
    owner = orders["owner"]
    day = orders["at"].astype("datetime64[D]")
    first_row = orders["first"]
    first_day = np.full(len(country), np.datetime64("NaT"), dtype="datetime64[D]")
    has = first_row >= 0
    first_day[has] = day[first_row[has]]
    # One key per customer and day: day numbers stay below 100,000 until the year 2243.
    keys, counted = grouped(owner.astype(np.int64) * 100_000 + _day_numbers(orders["at"]),
                            (orders["amount"] >= 0).astype(np.float64)[:, None])
    who, numbers = np.divmod(keys, 100_000)
    days = numbers.astype("datetime64[D]")
    customer_id = np.asarray(orders["customer_id"], dtype=np.int64)
    first_id = int(customer_id[0] - owner[0]) if len(owner) else 0
    return (first_id + who, days, np.asarray(country, dtype="U2")[who],
            counted[:, 0], (first_day[who] == days).astype(np.int64))


def _summed(shares: Sequence[Cells]) -> Cells:
    """Chunks share days, so their cells are summed across chunks."""
    keys, measures = zip(*shares, strict=True)
    return grouped(np.concatenate(keys), np.concatenate(measures))


def sales_tables(kpis: Sequence[ChunkKpis]) -> dict[str, dict[str, list]]:
    """Every chunk's ``daily_sales`` cells summed, and its roll-ups (``daily_totals``,
    ``daily_categories``, ``daily_channels``), as table name → column → values."""
    sales = _summed([kpi.sales for kpi in kpis])
    category = sales[0] % len(CATEGORIES)
    channel = sales[0] // len(CATEGORIES) % len(CHANNELS)
    place = sales[0] // (len(CATEGORIES) * len(CHANNELS))  # day and country
    tables = {
        "daily_sales": (sales, {"channel": (CHANNELS, len(CATEGORIES)),
                                "category": (CATEGORIES, 1)}),
        "daily_totals": (grouped(place, sales[1]), {}),
        "daily_categories": (grouped(place * len(CATEGORIES) + category, sales[1]),
                             {"category": (CATEGORIES, 1)}),
        "daily_channels": (grouped(place * len(CHANNELS) + channel, sales[1]),
                           {"channel": (CHANNELS, 1)}),
    }
    columns = {}
    for name, ((keys, sums), texts) in tables.items():
        columns[name] = _key_columns(keys, texts) | {
            measure: sums[:, index].tolist()
            for index, measure in enumerate(sales_cells.MEASURES)}
    return columns


def contact_columns(kpis: Sequence[ChunkKpis]) -> dict[str, list]:
    """Every chunk's ``daily_interactions`` cells summed, as column → values."""
    keys, counts = _summed([kpi.contacts for kpi in kpis])
    return _key_columns(keys, {"kind": (KINDS, 1)}) | {"interactions": counts[:, 0].tolist()}


def buyer_rows(kpis: Sequence[ChunkKpis]) -> list[tuple[Table, list[dict]]]:
    """``daily_customers``, ``monthly_customers`` and ``weekly_customers`` as (table, rows):
    one pass over every chunk's memberships, as the sets span chunks."""
    sets = buyer_cells.cells_from(*(np.concatenate(parts) for parts in zip(
        *(kpi.who for kpi in kpis), strict=True)))
    return [(buyer_cells.TABLE, buyer_cells.rows_of(sets)),
            (buyer_cells.MONTHLY, buyer_cells.rows_of(buyer_cells.by_month(sets), "month")),
            (buyer_cells.WEEKLY, buyer_cells.week_rows(buyer_cells.by_week(sets)))]


def _key_columns(keys: np.ndarray, texts: dict[str, tuple[tuple[str, ...], int]]
                 ) -> dict[str, list]:
    """The day and country of coded cell keys, and the text columns ``texts`` names
    (vocabulary, and the product of the digit sizes after it)."""
    columns = {}
    for name, (vocabulary, after) in texts.items():
        columns[name] = np.asarray(vocabulary, dtype=object)[
            (keys // after) % len(vocabulary)].tolist()
    width = int(np.prod([len(vocabulary) for vocabulary, _ in texts.values()],
                        dtype=np.int64)) if texts else 1
    day, country = np.divmod(keys // width, len(COUNTRIES))
    columns["day"] = np.datetime_as_string(day.astype("datetime64[D]"), unit="D").tolist()
    columns["country"] = np.asarray(COUNTRIES, dtype=object)[country].tolist()
    return columns
