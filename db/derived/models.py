"""Every table derived from the operational ones (:mod:`db.models`), declared with SQLModel:
``customer_summary`` (one row of figures per customer, which segments and the KPI page read)
and the small tables the KPI page reads instead of the raw rows.

None is written directly: the write services keep them current in the same transaction as
each change through :func:`db.derived.hook.customers_changed`, and ``python -m db.derived
rebuild`` recomputes them. Days and months are UTC; a KPI row's country is its customer's, as
it is now; money is in whole cents, so sums compare exactly on SQLite (which keeps NUMERIC as
floating point) and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Index,
    Join,
    LargeBinary,
    PrimaryKeyConstraint,
    Text,
)
from sqlmodel import Field, SQLModel

from db.core.sql import table_of
from db.models import ORDER_CHANNELS, Customer, timestamp_field

# The bit of each order channel in ``customer_summary.channels``.
CHANNEL_BITS = {channel: 1 << index for index, channel in enumerate(ORDER_CHANNELS)}


class CustomerSummary(SQLModel, table=True):
    """Per-customer figures that segments and KPIs read instead of scanning every order.

    Money is in whole cents so that sums compare exactly on SQLite (which keeps NUMERIC as
    floating point) and PostgreSQL alike.
    """

    __tablename__ = "customer_summary"
    # No index by country: without statistics SQLite then reads a large country's customers
    # one index entry at a time, and the builder's first preview ("country is DE") took
    # 2.1 s instead of 0.7-1.0 s at a million (bench/RESULTS.md, segment compiler choices).

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    # The columns segments test most come first: SQLite reads a row's columns in order, so a
    # test on a late column costs more over a million rows (see bench/RESULTS.md).
    # Copies of the customer's profile fields that segments test let a segment count read
    # this one narrow table: joining the customer table cost more than most conditions
    # themselves. Free-text fields (city, postcode, occupation) stay on the customer, which
    # the few segments naming them join.
    live: bool = False  # a copy: neither soft-deleted nor erased
    # The current consent per purpose (the newest event; never asked counts as not granted).
    consent_email_marketing: bool = False
    has_email: bool = False  # a copy: an address on file
    # Every order channel the customer has used, one bit each (see CHANNEL_BITS): "ordered
    # through the app, ever" becomes a column test instead of a probe of their orders.
    channels: int = 0
    order_count: int = 0
    spend_cents: int = Field(default=0, sa_type=BigInteger)
    latest_nps: int | None = None
    country: str = Field(default="", max_length=2)  # a copy
    status: str = Field(default="lead", max_length=20)  # a copy
    last_order_at: datetime | None = timestamp_field(nullable=True)
    last_interaction_at: datetime | None = timestamp_field(nullable=True)
    birth_date: date | None = None  # a copy
    first_order_at: datetime | None = timestamp_field(nullable=True)
    # Copies of the rarer profile tests.
    gender: str | None = Field(default=None, max_length=20)
    income_band: str | None = Field(default=None, max_length=20)
    source: str | None = Field(default=None, max_length=20)
    has_phone: bool = False
    created_at: datetime = timestamp_field()
    consent_sms: bool = False
    consent_profiling: bool = False
    consent_third_party_sharing: bool = False
    # Spend before refunds: no period's revenue can exceed it, which lets the KPI page find
    # the top customers of a long period without summing everyone's orders.
    gross_cents: int = Field(default=0, sa_type=BigInteger, index=True)
    # Copies of the markers that keep a customer out of every export (see
    # db.models.CustomerRestriction): an objection and a restriction of processing. Last,
    # where migration 0006 added them.
    do_not_contact: bool = False
    restricted: bool = False


class _SalesSums(SQLModel):
    """Orders summed per UTC day × customer country: what every sales table holds."""

    day: date = Field(primary_key=True)
    country: str = Field(primary_key=True, max_length=2)  # the customer's, as it is now
    orders: int = 0  # amount zero or more
    refunds: int = 0  # amount below zero
    revenue_cents: int = Field(default=0, sa_type=BigInteger)  # net of refunds
    new_customers: int = 0  # customers whose first order of all is in this cell


class DailySales(_SalesSums, table=True):
    """Orders summed per UTC day × customer country × channel × category, for the KPI page.

    A year of a million customers' orders is about four million rows; the same year here is
    a few tens of thousands, so the page's sums take milliseconds. :mod:`db.derived.sales_cells`
    moves a customer's share in the same transaction as any write that changes it, and
    rebuilds the table on demand. A cell exists only while it holds an order or a refund.
    """

    __tablename__ = "daily_sales"

    channel: str = Field(primary_key=True, max_length=20)
    category: str = Field(primary_key=True, max_length=50)


class DailyTotals(_SalesSums, table=True):
    """``daily_sales`` summed over channel and category: what the page reads unless a
    channel or category is asked for (a year is 3,600 rows instead of 130,000)."""

    __tablename__ = "daily_totals"


class DailyCategories(_SalesSums, table=True):
    """``daily_sales`` summed over channel: revenue by category without a channel filter."""

    __tablename__ = "daily_categories"

    category: str = Field(primary_key=True, max_length=50)


class DailyChannels(_SalesSums, table=True):
    """``daily_sales`` summed over category: revenue by channel without a category filter."""

    __tablename__ = "daily_channels"

    channel: str = Field(primary_key=True, max_length=20)


class DailyCustomers(SQLModel, table=True):
    """Who ordered on each UTC day, per customer country, as compressed sets of customer ids.

    Counting distinct customers over a period cannot add up daily counts (a customer who buys
    on two days is one customer), and counting them from a year of a million customers' orders
    takes seconds (see bench/RESULTS.md). Unions of these sets (roaring bitmaps,
    :mod:`db.derived.buyer_cells`) take milliseconds and stay exact. Kept by the write path like
    ``daily_sales``.
    """

    __tablename__ = "daily_customers"

    day: date = Field(primary_key=True)
    country: str = Field(primary_key=True, max_length=2)  # the customer's, as it is now
    buyers: bytes = Field(sa_type=LargeBinary)  # an order (amount zero or more) that day
    repeaters: bytes = Field(sa_type=LargeBinary)  # two or more such orders that day
    newcomers: bytes = Field(sa_type=LargeBinary)  # their first order of all that day


class MonthlyCustomers(SQLModel, table=True):
    """``daily_customers`` folded per UTC calendar month: who ordered in the month, who
    ordered twice or more in it, and whose first order of all fell in it. A year's customer
    counts then fold twelve sets per country instead of 365 (see :mod:`db.derived.buyer_cells`).
    """

    __tablename__ = "monthly_customers"

    month: date = Field(primary_key=True)  # its first day
    country: str = Field(primary_key=True, max_length=2)
    buyers: bytes = Field(sa_type=LargeBinary)
    repeaters: bytes = Field(sa_type=LargeBinary)
    newcomers: bytes = Field(sa_type=LargeBinary)


class WeeklyCustomers(SQLModel, table=True):
    """How many customers ordered in each week (Monday to Sunday, UTC) per customer country,
    and how many of them for the first time: the KPI page's weekly new-against-returning
    chart reads these counts instead of a year of daily sets (11 MB at a million customers).
    Folded from ``daily_customers`` by the same writes (see :mod:`db.derived.buyer_cells`)."""

    __tablename__ = "weekly_customers"

    week: date = Field(primary_key=True)  # its Monday
    country: str = Field(primary_key=True, max_length=2)
    active: int = 0
    new: int = 0


class DailyInteractions(SQLModel, table=True):
    """Contacts counted per UTC day × customer country × kind
    (see :mod:`db.derived.engagement_cells`)."""

    __tablename__ = "daily_interactions"

    day: date = Field(primary_key=True)
    country: str = Field(primary_key=True, max_length=2)
    kind: str = Field(primary_key=True, max_length=20)
    interactions: int = 0


class DailyNps(SQLModel, table=True):
    """Survey answers counted per UTC day × customer country by NPS group."""

    __tablename__ = "daily_nps"

    day: date = Field(primary_key=True)
    country: str = Field(primary_key=True, max_length=2)
    promoters: int = 0  # 9-10
    passives: int = 0  # 7-8
    detractors: int = 0  # 0-6


class CustomerRecency(SQLModel, table=True):
    """Live customers with orders, counted per day of their last order × orders ever (10
    standing for 10 or more) × country, with their spend: the RFM grid and the lifetime value
    read these few hundred thousand rows instead of a million customers
    (see :mod:`db.derived.recency_cells`)."""

    __tablename__ = "customer_recency"

    last_order_day: date = Field(primary_key=True)
    orders: int = Field(primary_key=True)
    country: str = Field(primary_key=True, max_length=2)
    customers: int = 0
    spend_cents: int = Field(default=0, sa_type=BigInteger)


class CustomerMonth(SQLModel, table=True):
    """Each customer's spend before refunds per UTC calendar month (months with none have
    no row): a period's revenue cannot exceed the spend of the months it touches, which lets
    the KPI page find a month's top customers by reading a few hundred of them in this
    order instead of summing everyone's orders (see :mod:`db.derived.month_cells`)."""

    __tablename__ = "customer_months"
    __table_args__ = (
        Index("ix_customer_months_month_gross", "month", "gross_cents", "customer_id"),
        # Kept in key order alone: a rowid beside the key nearly doubled the time the demo
        # load took to insert it.
        {"sqlite_with_rowid": False},
    )

    customer_id: int = Field(primary_key=True)
    month: date = Field(primary_key=True)
    gross_cents: int = Field(default=0, sa_type=BigInteger)


def listed() -> ColumnElement[bool]:
    """:func:`db.models.live` read from the summary's copy, for queries over
    ``customer_summary``."""
    return table_of(CustomerSummary).c.live.is_(True)


def customer_rows() -> Join:
    """customer_summary ⋈ customer: each customer's figures with the fields a page shows
    (segment previews and every customer export read these rows)."""
    summary = table_of(CustomerSummary)
    customers = table_of(Customer)
    return summary.join(customers, customers.c.id == summary.c.customer_id)


class Vocabulary(SQLModel, table=True):
    """The values in use of a field with few of them, for the pick lists: one row per
    (field, value), such as ("order.category", "books"). Kept by every write that adds such
    a value (:mod:`db.derived.vocabulary`), so a pick list reads a few rows instead of
    scanning every order. Orders are never deleted nor their category changed, so it only
    grows; ``python -m db.derived rebuild`` recomputes it."""

    __tablename__ = "vocabulary"

    field: str = Field(primary_key=True, max_length=30)
    value: str = Field(primary_key=True, max_length=100)


class _Ranked(SQLModel):
    """A customer's newest rows of one kind, newest first: rank 1 is the newest (ties: the
    later row), down to :data:`RANKED`. "At least n in the last N days" holds exactly when
    the row ranked n is within them, so a segment reads the customers who pass from the
    ``(rank, at)`` index instead of counting each one's rows (see :mod:`db.derived.ranks`)."""

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    rank: int = Field(primary_key=True)
    at: datetime = timestamp_field()


# How many of each customer's newest rows the rank tables keep.
RANKED = 10


class OrderRank(_Ranked, table=True):
    """A customer's :data:`RANKED` newest orders' times (refunds included, as in
    ``order_count``)."""

    __tablename__ = "order_ranks"
    __table_args__ = (Index("ix_order_ranks_rank_at", "rank", "at", "customer_id"),
                      {"sqlite_with_rowid": False})


class ContactRank(_Ranked, table=True):
    """A customer's :data:`RANKED` newest interactions' times (every kind)."""

    __tablename__ = "contact_ranks"
    __table_args__ = (Index("ix_contact_ranks_rank_at", "rank", "at", "customer_id"),
                      {"sqlite_with_rowid": False})


class CategoryBuyer(SQLModel, table=True):
    """A customer's newest order in one category, with the customer's country.

    "Bought books in the last 90 days" holds exactly when the newest book order is within
    them: one row per buyer instead of one per order, so the segment reads who bought
    without making 100,000 orders distinct. The country (a copy, refreshed with the rows)
    lets "… in DE or AT" narrow the range read before any customer is looked up
    (see :mod:`db.derived.ranks` and :meth:`db.segments.windows.Windows.bought`)."""

    __tablename__ = "category_buyers"
    __table_args__ = (Index("ix_category_buyers_category_country_at", "category", "country",
                            "last_at", "customer_id"),
                      {"sqlite_with_rowid": False})

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    category: str = Field(primary_key=True, max_length=50)
    country: str = Field(max_length=2)  # a copy of the customer's
    last_at: datetime = timestamp_field()


# Compared byte by byte on both engines (SQLite's default; PostgreSQL's "C" collation), so a
# range of words is every word starting with a prefix whatever the database's locale.
_WORD = Text().with_variant(Text(collation="C"), "postgresql")


class CustomerNameWord(SQLModel, table=True):
    """One word of a live customer's folded whole name, with the name as recorded.

    A one-word lookup lists first the names with a word starting with it: those are one
    range of this table's key, holding the names that ranking sorts by, where the trigram
    index gave a thousand ids whose records were then read one by one
    (see :mod:`db.derived.search_index` and :mod:`db.search.ranking`). The key holds the
    names on both engines: SQLite keeps the rows in it, PostgreSQL includes the names in it,
    so a range is read from the key alone (migration ``0019_name_words_covering``)."""

    __tablename__ = "customer_name_word"
    __table_args__ = (PrimaryKeyConstraint("word", "customer_id",
                                           postgresql_include=["first_name", "last_name"]),
                      {"sqlite_with_rowid": False})

    word: str = Field(primary_key=True, sa_type=_WORD)  # as search_index.name_words folds it
    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE",
                             index=True)
    first_name: str = Field(max_length=100)  # copies of the customer's
    last_name: str = Field(max_length=100)


class CustomerNameVocabulary(SQLModel, table=True):
    """Each distinct word of :class:`CustomerNameWord`, once.

    A lone typo ("hnasen") is matched against the distinct name words starting with its
    first letter. Read from the name words themselves, that was one index probe per
    distinct word (a loose index scan): 5–10 ms of a PostgreSQL search at a million
    customers for a common letter. Here it is one range of this table's key. Kept in step
    by :mod:`db.derived.search_index` wherever name words are written or removed."""

    __tablename__ = "customer_name_vocabulary"
    __table_args__ = ({"sqlite_with_rowid": False},)

    word: str = Field(primary_key=True, sa_type=_WORD)
