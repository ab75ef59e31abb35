"""``customer_summary``: one row of figures per customer, declared with SQLModel.

Derived only from the operational tables (:mod:`db.models`): :mod:`db.derived.summary`
recomputes a customer's row in the same transaction as any write that changes it, and
rebuilds the whole table on demand.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ColumnElement, Join
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
