"""Every table of custdb, declared once with SQLModel.

Conventions: timestamps are :class:`~db.core.types.UTCDateTime` (timezone-aware UTC), money is
``Decimal`` in a ``NUMERIC(12, 2)`` column, and closed vocabularies are plain strings guarded by
CHECK constraints (portable across engines, unlike native enums, and easy to extend in a
migration). The tuples below are the single source of those vocabularies for forms,
validation, demo data and tests.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow

# Names every constraint and index so that migrations (and SQLite batch mode) can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CUSTOMER_STATUSES = ("lead", "active", "inactive", "churned")
GENDERS = ("female", "male", "diverse", "undisclosed")
INCOME_BANDS = ("<25k", "25-50k", "50-75k", "75-100k", "100-150k", ">150k")
CONTACT_CHANNELS = ("email", "phone", "sms", "post")
SOURCE_CHANNELS = ("web", "store", "referral", "event", "partner", "social", "import")
ORDER_CHANNELS = ("web", "store", "app", "phone", "marketplace")
# The bit of each order channel in ``customer_summary.channels``.
CHANNEL_BITS = {channel: 1 << index for index, channel in enumerate(ORDER_CHANNELS)}
INTERACTION_KINDS = ("email", "call", "meeting", "ticket", "note")
DIRECTIONS = ("inbound", "outbound", "internal")
# NPS bands of a 0-10 survey answer (Reichheld): the KPI page scores them, segments filter
# on them and the demo writes comments to match; all three read this one definition.
NPS_BANDS = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}
CONSENT_PURPOSES = ("email_marketing", "sms", "profiling", "third_party_sharing")
ROLES = ("admin", "manager", "marketing")
SEGMENT_KINDS = ("dynamic", "static")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    """A CHECK constraint limiting ``column`` to ``values``; the values are our constants."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


def _timestamp(*, index: bool = False, nullable: bool = False) -> datetime:
    """A UTC timestamp column defaulting to now (``nullable`` ones default to NULL)."""
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, index=index, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, index=index, nullable=False)


_customer_version = Column("version", Integer, nullable=False, default=1)
_segment_version = Column("version", Integer, nullable=False, default=1)


class Customer(SQLModel, table=True):
    """A person the business sells to: identity, demographics, preferences, lifecycle.

    ``version`` is SQLAlchemy's optimistic lock: an UPDATE names the version it read, so a
    save based on a stale copy matches no row and fails instead of overwriting.
    ``deleted_at`` hides a soft-deleted customer; ``erased_at`` marks a GDPR erasure whose
    personal fields have been blanked.
    """

    __tablename__ = "customer"
    __table_args__ = (
        _one_of("status", CUSTOMER_STATUSES, "status"),
        _one_of("gender", GENDERS, "gender"),
        _one_of("income_band", INCOME_BANDS, "income_band"),
        _one_of("preferred_channel", CONTACT_CHANNELS, "preferred_channel"),
        _one_of("source", SOURCE_CHANNELS, "source"),
        Index("ix_customer_last_first", "last_name", "first_name"),
        Index("ix_customer_country_status", "country", "status"),
    )
    __mapper_args__ = {"version_id_col": _customer_version}

    id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    email: str | None = Field(default=None, max_length=254, unique=True)
    phone: str | None = Field(default=None, max_length=20, index=True)
    street: str | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=100)
    country: str = Field(max_length=2)
    birth_date: date | None = None
    gender: str | None = Field(default=None, max_length=20)
    occupation: str | None = Field(default=None, max_length=100)
    income_band: str | None = Field(default=None, max_length=20)
    preferred_channel: str | None = Field(default=None, max_length=20)
    status: str = Field(default="lead", max_length=20)
    source: str | None = Field(default=None, max_length=20)
    external_ref: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = _timestamp(index=True)
    updated_at: datetime = _timestamp()
    version: int = Field(default=1, sa_column=_customer_version)
    deleted_at: datetime | None = _timestamp(nullable=True)
    erased_at: datetime | None = _timestamp(nullable=True)


class Tag(SQLModel, table=True):
    """An interest or label marketing attaches to customers (e.g. "cycling", "vip")."""

    __tablename__ = "tag"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)


class CustomerTag(SQLModel, table=True):
    """Which customer carries which tag."""

    __tablename__ = "customer_tag"
    __table_args__ = (Index("ix_customer_tag_tag_customer", "tag_id", "customer_id"),)

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, ondelete="CASCADE")


class Order(SQLModel, table=True):
    """One purchase. Refunds are negative amounts, so sums stay honest."""

    __tablename__ = "orders"
    __table_args__ = (
        _one_of("channel", ORDER_CHANNELS, "channel"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # Covering: a customer's orders in a time window, with what segments ask of them
        # (category, channel, amount), come from the index alone.
        Index("ix_orders_customer_activity", "customer_id", "ordered_at", "category", "channel",
              "amount"),
        # The same columns time first: every order in a period, for segments' time windows
        # and the KPIs' period sums, read from the index alone.
        Index("ix_orders_ordered_at", "ordered_at", "customer_id", "category", "channel",
              "amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    ordered_at: datetime = _timestamp()
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    currency: str = Field(default="EUR", max_length=3)
    category: str = Field(max_length=50)
    channel: str = Field(max_length=20)
    product: str = Field(max_length=120)
    quantity: int = 1


class Interaction(SQLModel, table=True):
    """A contact with the customer: an email, call, meeting, support ticket or note.

    ``at`` is when the contact happened; ``logged_at`` is when staff logged it in the app,
    which starts the day in which its author or an admin may still correct or delete it
    (NULL for rows loaded in bulk, such as demo data, or logged before migration 0017).
    """

    __tablename__ = "interaction"
    __table_args__ = (
        _one_of("kind", INTERACTION_KINDS, "kind"),
        _one_of("direction", DIRECTIONS, "direction"),
        Index("ix_interaction_customer_at", "customer_id", "at"),
        Index("ix_interaction_at", "at", "customer_id", "kind"),  # contacts in a period
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    at: datetime = _timestamp()
    kind: str = Field(max_length=20)
    direction: str = Field(default="outbound", max_length=20)
    subject: str = Field(max_length=200)
    summary: str | None = Field(default=None, max_length=4000)
    staff_user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    outcome: str | None = Field(default=None, max_length=100)
    logged_at: datetime | None = _timestamp(nullable=True)


class Feedback(SQLModel, table=True):
    """A Net Promoter Score answer (0-10) with an optional comment."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("nps_score BETWEEN 0 AND 10", name="nps_range"),
        Index("ix_feedback_customer_at", "customer_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    at: datetime = _timestamp(index=True)
    nps_score: int
    comment: str | None = Field(default=None, max_length=4000)


class ConsentEvent(SQLModel, table=True):
    """One grant or withdrawal of consent; the newest event per purpose is the current state.

    Append-only history, because GDPR asks us to show when and how consent was given.
    """

    __tablename__ = "consent_event"
    __table_args__ = (
        _one_of("purpose", CONSENT_PURPOSES, "purpose"),
        Index("ix_consent_event_customer_purpose_at", "customer_id", "purpose", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    purpose: str = Field(max_length=30)
    granted: bool
    at: datetime = _timestamp()
    source: str = Field(max_length=50)
    notice_version: str = Field(max_length=20)
    recorded_by_user_id: int | None = Field(
        default=None, foreign_key="app_user.id", ondelete="SET NULL"
    )


class PaymentMethod(SQLModel, table=True):
    """A stored card as the processor tokenised it: never a full card number."""

    __tablename__ = "payment_method"
    __table_args__ = (
        CheckConstraint("length(last4) = 4", name="last4_length"),
        CheckConstraint("exp_month BETWEEN 1 AND 12", name="exp_month_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    brand: str = Field(max_length=20)
    last4: str = Field(max_length=4)
    exp_month: int
    exp_year: int
    processor_token: str = Field(max_length=100, unique=True)
    created_at: datetime = _timestamp()


class CustomerSummary(SQLModel, table=True):
    """Per-customer figures that segments and KPIs read instead of scanning every order.

    One row per customer, derived only from the other tables: :mod:`db.derived.summary` recomputes a
    customer's row in the same transaction as any write that changes it, and rebuilds the
    whole table on demand. Money is in whole cents so that sums compare exactly on SQLite
    (which keeps NUMERIC as floating point) and PostgreSQL alike.
    """

    __tablename__ = "customer_summary"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    # The columns segments test most come first: SQLite reads a row's columns in order, and
    # over a million rows a test on the first column cost 140 ms against 245 on the 22nd.
    # Copies of the customer's profile fields that segments test let a segment count read
    # this one narrow table: joining the customer table cost 0.45 s of every count over a
    # million customers, more than most conditions themselves. Free-text fields (city,
    # postcode, occupation) stay on the customer, which the few segments naming them join.
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
    last_order_at: datetime | None = _timestamp(nullable=True)
    last_interaction_at: datetime | None = _timestamp(nullable=True)
    birth_date: date | None = None  # a copy
    first_order_at: datetime | None = _timestamp(nullable=True)
    # Copies of the rarer profile tests.
    gender: str | None = Field(default=None, max_length=20)
    income_band: str | None = Field(default=None, max_length=20)
    source: str | None = Field(default=None, max_length=20)
    has_phone: bool = False
    created_at: datetime = _timestamp()
    consent_sms: bool = False
    consent_profiling: bool = False
    consent_third_party_sharing: bool = False
    # Spend before refunds: no period's revenue can exceed it, which lets the KPI page find
    # the top customers of a long period without summing everyone's orders.
    gross_cents: int = Field(default=0, sa_type=BigInteger, index=True)

class DailySales(SQLModel, table=True):
    """Orders summed per UTC day × customer country × channel × category, for the KPI page.

    A year of a million customers' orders is about four million rows; the same year here is
    a few tens of thousands, so the page's sums take milliseconds. Derived only from
    ``orders`` and ``customer``: :mod:`db.kpi.sales_cells` moves a customer's share in the same
    transaction as any write that changes it, and rebuilds the table on demand. A cell exists
    only while it holds an order or a refund.
    """

    __tablename__ = "daily_sales"

    day: date = Field(primary_key=True)
    country: str = Field(primary_key=True, max_length=2)  # the customer's, as it is now
    channel: str = Field(primary_key=True, max_length=20)
    category: str = Field(primary_key=True, max_length=50)
    orders: int = 0  # amount zero or more
    refunds: int = 0  # amount below zero
    revenue_cents: int = Field(default=0, sa_type=BigInteger)  # net of refunds
    new_customers: int = 0  # customers whose first order of all is in this cell


class DailyTotals(SQLModel, table=True):
    """``daily_sales`` summed over channel and category: what the page reads unless a
    channel or category is asked for (a year is 3,600 rows instead of 130,000)."""

    __tablename__ = "daily_totals"

    day: date = Field(primary_key=True)
    country: str = Field(primary_key=True, max_length=2)
    orders: int = 0
    refunds: int = 0
    revenue_cents: int = Field(default=0, sa_type=BigInteger)
    new_customers: int = 0


class DailyCategories(SQLModel, table=True):
    """``daily_sales`` summed over channel: revenue by category without a channel filter."""

    __tablename__ = "daily_categories"

    day: date = Field(primary_key=True)
    country: str = Field(primary_key=True, max_length=2)
    category: str = Field(primary_key=True, max_length=50)
    orders: int = 0
    refunds: int = 0
    revenue_cents: int = Field(default=0, sa_type=BigInteger)
    new_customers: int = 0


class DailyChannels(SQLModel, table=True):
    """``daily_sales`` summed over category: revenue by channel without a category filter."""

    __tablename__ = "daily_channels"

    day: date = Field(primary_key=True)
    country: str = Field(primary_key=True, max_length=2)
    channel: str = Field(primary_key=True, max_length=20)
    orders: int = 0
    refunds: int = 0
    revenue_cents: int = Field(default=0, sa_type=BigInteger)
    new_customers: int = 0


class DailyCustomers(SQLModel, table=True):
    """Who ordered on each UTC day, per customer country, as compressed sets of customer ids.

    Counting distinct customers over a period cannot add up daily counts (a customer who buys
    on two days is one customer), and counting them from a year of a million customers' orders
    took 6.4 s. Unions of these sets (roaring bitmaps, :mod:`db.kpi.buyer_cells`) take
    milliseconds and stay exact. Kept by the write path like ``daily_sales``.
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
    counts then fold twelve sets per country instead of 365 (see :mod:`db.kpi.buyer_cells`).
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
    Folded from ``daily_customers`` by the same writes (see :mod:`db.kpi.buyer_cells`)."""

    __tablename__ = "weekly_customers"

    week: date = Field(primary_key=True)  # its Monday
    country: str = Field(primary_key=True, max_length=2)
    active: int = 0
    new: int = 0


class DailyInteractions(SQLModel, table=True):
    """Contacts counted per UTC day × customer country × kind
    (see :mod:`db.kpi.engagement_cells`)."""

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
    (see :mod:`db.kpi.recency_cells`)."""

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
    order instead of summing everyone's orders (see :mod:`db.kpi.month_cells`)."""

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


class Segment(SQLModel, table=True):
    """A saved target group: a definition (JSON, see db.segments.definition) and its kind.

    A dynamic segment is evaluated whenever it is used; a static one keeps the members it
    had when it was saved (``snapshot_at``) in ``segment_member``.
    """

    __tablename__ = "segment"
    __table_args__ = (_one_of("kind", SEGMENT_KINDS, "kind"),)
    __mapper_args__ = {"version_id_col": _segment_version}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    description: str | None = Field(default=None, max_length=1000)
    kind: str = Field(default="dynamic", max_length=10)
    definition: str = Field(sa_type=Text)
    owner: str = Field(max_length=50)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    snapshot_at: datetime | None = _timestamp(nullable=True)
    version: int = Field(default=1, sa_column=_segment_version)


class SegmentMember(SQLModel, table=True):
    """A member of a static segment, as of its snapshot."""

    __tablename__ = "segment_member"

    segment_id: int = Field(foreign_key="segment.id", primary_key=True, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")


class SegmentSize(SQLModel, table=True):
    """A segment's size on one day (the first evaluation of that day), for its history."""

    __tablename__ = "segment_size"

    segment_id: int = Field(foreign_key="segment.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    size: int


class User(SQLModel, table=True):
    """A member of staff who signs in. ``password_hash`` is bcrypt; never a password."""

    __tablename__ = "app_user"
    __table_args__ = (
        _one_of("role", ROLES, "role"),
        UniqueConstraint("username", name="uq_app_user_username"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50)
    display_name: str = Field(max_length=100)
    email: str | None = Field(default=None, max_length=254)
    password_hash: str = Field(max_length=100)
    role: str = Field(max_length=20)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = _timestamp(nullable=True)
    last_login_at: datetime | None = _timestamp(nullable=True)
    # Sign-in cookies issued before this moment no longer sign in (set by sign-out,
    # password change and deactivation), since the cookie itself cannot be recalled.
    sessions_revoked_at: datetime | None = _timestamp(nullable=True)
    created_at: datetime = _timestamp()


class AuditEvent(SQLModel, table=True):
    """One recorded action: who did what to which record, when, from where.

    ``changes`` holds JSON text (``{"field": [old, new]}`` for updates) so that the row is
    the same bytes on both engines. ``prev_hash`` and ``hash`` chain every event to the one
    before it (see :mod:`db.audit.trail`), and database triggers refuse UPDATE and DELETE, so the
    table is append-only and any edit made around the triggers shows up in ``verify``.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity", "entity_id", "id"),
        Index("ix_audit_event_actor_id", "actor", "id"),
        Index("ix_audit_event_action_id", "action", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _timestamp(index=True)
    actor: str = Field(max_length=50)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=64)
    changes: str = Field(default="{}")
    source: str = Field(max_length=20)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
