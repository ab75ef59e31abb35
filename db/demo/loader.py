"""Loads the demo data into an empty database: :func:`load_demo_data`.

The rows come from :mod:`db.demo.generator` (with :mod:`db.demo.people`) a chunk of customers
at a time; the derived tables from their NumPy twins (:mod:`db.demo.twins`), and the search
index from :func:`db.derived.search_index.compose`, so nothing is read back. Everything goes through
:mod:`db.core.bulk` (executemany / COPY), never one ORM object per row, in one transaction:
a failed load leaves the database empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

import numpy as np
from sqlalchemy import Connection, Engine, func, select
from sqlmodel import SQLModel, col

from db import models
from db.core.bulk import (
    checks_deferred,
    indexes_deferred,
    insert_rows,
    reset_sequence,
    rollback_journal,
)
from db.core.sql import table_of
from db.demo import twins
from db.demo import vocabulary as vocab
from db.demo.generator import Chunk, DemoGenerator
from db.derived import ranks, search_index, vocabulary
from db.derived.engagement_cells import NPS_CELLS
from db.derived.models import (
    CategoryBuyer,
    CustomerMonth,
    CustomerSummary,
    DailyCategories,
    DailyChannels,
    DailyInteractions,
    DailySales,
    DailyTotals,
)
from db.derived.recency_cells import RECENCY_CELLS

CHUNK_SIZE = 50_000
# Tables the generator fills, parents first.
_LOADED_MODELS: tuple[type[SQLModel], ...] = (
    models.Tag, models.Customer, models.CustomerTag, models.Order, models.Interaction,
    models.Feedback, models.ConsentEvent, models.PaymentMethod, CustomerSummary, CustomerMonth)
_SALES_MODELS: tuple[type[SQLModel], ...] = (DailySales, DailyTotals, DailyCategories,
                                             DailyChannels)

_COUNT_FIELDS = {"customer": "customers", "customer_tag": "customer_tags", "orders": "orders",
                 "interaction": "interactions", "feedback": "feedback",
                 "consent_event": "consent_events", "payment_method": "payment_methods",
                 "customer_summary": "summaries", "customer_months": "kpi_rows",
                 "daily_sales": "kpi_rows",
                 "daily_totals": "kpi_rows", "daily_categories": "kpi_rows",
                 "daily_channels": "kpi_rows", "daily_interactions": "kpi_rows",
                 "category_buyers": "kpi_rows"}


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


def load_demo_data(engine: Engine, *, customers: int, seed: int, as_of: date | None = None,
                   orders_per_customer: float = 10.0,
                   progress: Callable[[str], None] | None = None) -> DemoCounts:
    """Fill an empty database with demo data; refuses a database that has customers.

    The same ``seed`` and ``as_of`` (default: today, UTC) always give the same rows.
    """
    if customers < 1:
        raise DemoDataError("--customers must be at least 1")
    with engine.connect() as connection:
        existing = connection.execute(
            select(func.count()).select_from(models.Customer)).scalar_one()
        staff_id = col(models.User.id)
        staff = connection.execute(select(staff_id).order_by(staff_id)).scalars().all()
    if existing:
        raise DemoDataError(f"the database already holds {existing:,} customers; demo data "
                            "is only loaded into an empty database")
    generator = DemoGenerator(seed=seed, as_of=as_of or datetime.now(UTC).date(),
                              orders_per_customer=orders_per_customer,
                              staff_ids=[user_id for user_id in staff if user_id is not None])
    return _load(engine.connect, generator, customers, progress)


def _load(connection_factory: Callable[[], Connection], generator: DemoGenerator,
          customers: int, progress: Callable[[str], None] | None) -> DemoCounts:
    """Insert ``customers`` customers and everything around them, in one transaction.

    Chunks are drawn and inserted in turn on this thread. Drawing the next chunk on a worker
    thread was slower (see bench/RESULTS.md): the driver gives up the GIL for every row it
    steps, and a busy worker keeps it for a whole switch interval each time.
    """
    counts = DemoCounts()
    started = time.perf_counter()
    tables = [table_of(model) for model in _LOADED_MODELS]
    with connection_factory() as connection, rollback_journal(connection), \
            connection.begin(), indexes_deferred(connection, tables), \
            checks_deferred(connection, tables):
        rows = [(index + 1, name) for index, name in enumerate(vocab.INTERESTS)]
        insert_rows(connection, table_of(models.Tag), ("id", "name"), rows)
        stamp = _Timestamps(connection.dialect.name)
        search_table = search_index.bulk_table(connection.dialect.name)
        kpis = []
        for first_id in range(1, customers + 1, CHUNK_SIZE):
            size = min(CHUNK_SIZE, customers - first_id + 1)
            chunk_tables, (search_rows, word_rows), chunk_kpis = _chunk_tables(
                generator.draw(first_id, size), stamp)
            for model, columns in chunk_tables:
                _insert(connection, model, columns, counts)
                if model is models.Order:
                    vocabulary.note(connection, vocabulary.CATEGORY, columns["category"])
            insert_rows(connection, search_table, [c.name for c in search_table.c],
                        search_rows)
            insert_rows(connection, search_index.WORDS, search_index.WORD_COLUMNS, word_rows)
            search_index.note_words(connection, (row[0] for row in word_rows))
            kpis.append(chunk_kpis)
            if progress:
                progress(f"{first_id + size - 1:,} of {customers:,} customers")
        _load_kpis(connection, kpis, counts)
        for table in tables:
            reset_sequence(connection, table)
        if connection.dialect.name == "postgresql":
            # Statistics for every table just filled, committed with the rows: autovacuum
            # had not analysed any when a 1M load ended, and without them the planner took
            # 28 rows for 16,112 segment members (a nested loop at twice the time). SQLite's
            # plans are tuned without statistics, so it is left as it was.
            connection.exec_driver_sql("ANALYZE")
    counts.seconds = time.perf_counter() - started
    return counts


def _load_kpis(connection: Connection, kpis: list[twins.ChunkKpis], counts: DemoCounts
               ) -> None:
    """The KPI tables (:mod:`db.derived.kpi_tables`), from every chunk's share. Computed from the
    arrays, as the rebuild queries over the loaded rows are far slower; the two smallest
    tables use those queries, which cost little (see bench/RESULTS.md)."""
    sales = twins.sales_tables(kpis)
    for model in _SALES_MODELS:
        _insert(connection, model, sales[table_of(model).name], counts)
    _insert(connection, DailyInteractions, twins.contact_columns(kpis), counts)
    for table, rows in twins.buyer_rows(kpis):
        if rows:
            connection.execute(table.insert(), rows)
    for cells in (NPS_CELLS, RECENCY_CELLS):
        cells.rebuild(connection)
    ranks.rebuild(connection, ranked_only=True)  # the segments' newest orders and contacts


def _chunk_tables(chunk: Chunk, stamp: _Timestamps
                  ) -> tuple[list[tuple[type[SQLModel], dict[str, list]]],
                             tuple[list[tuple[object, ...]], list[tuple[str, int, str, str]]],
                             twins.ChunkKpis]:
    """Every row of one chunk of customers, as (model, column → values) in load order,
    the customers' search index rows (:func:`search_index.bulk_row`) and name words, and
    their share of the daily tables."""
    ids, people, orders = chunk.ids, chunk.people, chunk.orders
    # Each customer's first order (its row, or -1): the summary and the KPI tables use it.
    orders["first"] = twins.newest(orders["owner"], orders["at"], len(ids), oldest=True)
    customers = {
        "id": ids.tolist(), "first_name": people["first"].tolist(),
        "last_name": people["last"].tolist(), "email": people["email"],
        "phone": people["phone"], "street": people["street"].tolist(),
        "postcode": people["postcode"].tolist(), "city": people["city"].tolist(),
        "country": people["country"].tolist(), "birth_date": people["birth_date"],
        "gender": people["gender"].tolist(), "occupation": people["occupation"],
        "income_band": people["income_band"], "preferred_channel": people["channel"],
        "status": chunk.status.tolist(), "source": people["source"].tolist(),
        "external_ref": [f"C-{i:08d}" for i in ids],
        "created_at": stamp(people["created"]), "updated_at": stamp(people["created"]),
        "version": [1] * len(ids),
    }
    order_rows = {
        "customer_id": orders["customer_id"].tolist(), "ordered_at": stamp(orders["at"]),
        "amount": orders["amount"].tolist(), "currency": ["EUR"] * len(orders["amount"]),
        "category": orders["category"].tolist(), "channel": orders["channel"].tolist(),
        "product": orders["product"].tolist(), "quantity": orders["quantity"].tolist(),
    }
    interactions, feedback, consent = chunk.interactions, chunk.feedback, chunk.consent
    contacts = twins.daily_contacts(interactions, ids, people["country"])
    summary = twins.summary(ids, orders, interactions, feedback, consent, stamp)
    summary |= twins.profile_copies(customers, orders["owner"], orders["channel"])
    for table in (interactions, feedback, consent):
        table["at"] = stamp(table["at"])
    cards = chunk.cards
    cards["created_at"] = stamp(cards["created_at"])
    search_rows = list(map(
        partial(search_index.bulk_row, stamp.dialect), customers["id"],
        customers["first_name"], customers["last_name"], customers["email"],
        customers["phone"], customers["external_ref"], customers["city"]))
    word_rows = [row for customer_id, first, last in zip(
        customers["id"], customers["first_name"], customers["last_name"], strict=True)
        for row in search_index.word_rows(customer_id, first, last)]
    tag_customers, tag_ids = chunk.tags
    return [(models.Customer, customers),
            (models.CustomerTag, {"customer_id": tag_customers, "tag_id": tag_ids}),
            (models.Order, order_rows), (models.Interaction, interactions),
            (models.Feedback, feedback), (models.ConsentEvent, consent),
            (models.PaymentMethod, cards), (CustomerSummary, summary),
            (CustomerMonth, twins.customer_months(orders)),
            (CategoryBuyer, twins.category_buyers(orders, people["country"], stamp))
            ], (search_rows, word_rows), twins.ChunkKpis(
        sales=twins.daily_sales(orders, people["country"]), contacts=contacts,
        who=twins.memberships(orders, people["country"]))


def _insert(connection: Connection, model: type[SQLModel], columns: dict[str, list],
            counts: DemoCounts) -> None:
    names = tuple(columns)
    rows = list(zip(*(columns[name] for name in names), strict=True))
    table = table_of(model)
    if rows:
        insert_rows(connection, table, names, rows)
    field = _COUNT_FIELDS[table.name]
    setattr(counts, field, getattr(counts, field) + len(rows))
