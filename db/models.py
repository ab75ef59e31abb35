"""The operational tables of custdb and their vocabularies, declared once with SQLModel.

The tables derived from them (summary, KPI tables) live in :mod:`db.derived.models`, which
imports this one first for the naming convention set here.

Conventions: timestamps are :class:`~db.core.types.UTCDateTime` (timezone-aware UTC), money is
``Decimal`` in a ``NUMERIC(12, 2)`` column, and closed vocabularies are plain strings guarded by
CHECK constraints (portable across engines, unlike native enums, and easy to extend in a
migration). The tuples below are the single source of those vocabularies for forms,
validation, demo data and tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import (
    CheckConstraint,
    Column,
    ColumnElement,
    Connection,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    and_,
    select,
    text,
)
from sqlmodel import Field, Session, SQLModel

from db.core.access import ROLES
from db.core.sql import table_of
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
INTERACTION_KINDS = ("email", "call", "meeting", "ticket", "note")
DIRECTIONS = ("inbound", "outbound", "internal")
# NPS bands of a 0-10 survey answer (Reichheld): the KPI page scores them, segments filter
# on them and the demo writes comments to match; all three read this one definition.
NPS_BANDS = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}
CONSENT_PURPOSES = ("email_marketing", "sms", "profiling", "third_party_sharing")
# Where a grant or withdrawal came from: a signed or in-person form typed in by staff, a phone
# call, the website (sign-up, preference centre), an e-mail (a double opt-in confirmation,
# an unsubscribe reply) or a file import (written only by db.imports). Checked by the
# services, not by a CHECK constraint: rows recorded before this vocabulary hold free text.
CONSENT_SOURCES = ("form", "phone", "web", "email", "import")
SEGMENT_KINDS = ("dynamic", "static")
# A customer's markers against processing: an objection (GDPR art. 21, "do not contact")
# and a restriction of processing (art. 18). Either keeps them out of every export.
RESTRICTION_KINDS = ("do_not_contact", "restricted")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    """A CHECK constraint limiting ``column`` to ``values``; the values are our constants."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


def timestamp_field(*, index: bool = False, nullable: bool = False) -> datetime:
    """A UTC timestamp column defaulting to now (``nullable`` ones default to NULL); the
    derived tables' models (:mod:`db.derived.models`) declare theirs with it too."""
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, index=index, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, index=index, nullable=False)


_customer_version = Column("version", Integer, nullable=False, default=1)
_segment_version = Column("version", Integer, nullable=False, default=1)


class Customer(SQLModel, table=True):
    """A person the business sells to: identity, demographics, preferences, lifecycle.

    ``version`` is SQLAlchemy's optimistic lock: an UPDATE names the version it read, so a
    save based on a stale copy matches no row and fails instead of overwriting.
    ``deleted_at`` hides a soft-deleted customer, ``erased_at`` marks a GDPR erasure (personal
    fields blanked), ``merged_into_id`` the survivor of a merge (:mod:`db.quality.merge`).
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
    created_at: datetime = timestamp_field(index=True)
    updated_at: datetime = timestamp_field()
    version: int = Field(default=1, sa_column=_customer_version)
    deleted_at: datetime | None = timestamp_field(nullable=True)
    erased_at: datetime | None = timestamp_field(nullable=True)
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id", index=True)


def live() -> ColumnElement[bool]:
    """The one definition of a live customer, over ``customer``: not soft-deleted, erased or
    merged into another. Lookup, segments, KPIs, the summary and the home page's counts ask
    here, so the next state a customer can be in changes one place."""
    columns = table_of(Customer).c
    return and_(columns.deleted_at.is_(None), columns.erased_at.is_(None),
                columns.merged_into_id.is_(None))


class Lifecycle(Protocol):
    """What :func:`is_live` reads: a Customer, or any row carrying these three fields."""

    @property
    def deleted_at(self) -> datetime | None: ...
    @property
    def erased_at(self) -> datetime | None: ...
    @property
    def merged_into_id(self) -> int | None: ...


def is_live(customer: Lifecycle | None) -> bool:
    """Python's twin of :func:`live` for a loaded record (``None``: no such customer)."""
    return (customer is not None and customer.deleted_at is None
            and customer.erased_at is None and customer.merged_into_id is None)


def lock_customers(executor: Session | Connection, customer_ids: Iterable[int]) -> None:
    """Lock these customers' rows until the transaction ends, in id order.

    A write that changes several customers locks them all first, always in the same order,
    so two writes naming the same customers queue instead of deadlocking on PostgreSQL.
    Locking again what this transaction holds is free; SQLite writes one at a time anyway.
    """
    ids = sorted(set(customer_ids))
    key = table_of(Customer).c.id
    if ids:
        executor.execute(select(key).where(key.in_(ids)).order_by(key).with_for_update())


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
        # Covering, so segments' windows and the KPIs' period sums read the index alone: a
        # customer's orders in a window; every order in a period; one category's in a period.
        Index("ix_orders_customer_activity", "customer_id", "ordered_at", "category", "channel",
              "amount"),
        Index("ix_orders_ordered_at", "ordered_at", "customer_id", "category", "channel",
              "amount"),
        Index("ix_orders_category_time", "category", "ordered_at", "customer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    ordered_at: datetime = timestamp_field()
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    currency: str = Field(default="EUR", max_length=3)
    category: str = Field(max_length=50)
    channel: str = Field(max_length=20)
    product: str = Field(max_length=120)
    quantity: int = 1
    # The shop's own order number: an import of the same file again finds it and adds nothing.
    external_ref: str | None = Field(default=None, max_length=64, unique=True)


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
        Index("ix_interaction_customer_at_kind", "customer_id", "at", "id", "kind"),
        Index("ix_interaction_at", "at", "customer_id", "kind"),  # contacts in a period
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    at: datetime = timestamp_field()
    kind: str = Field(max_length=20)
    direction: str = Field(default="outbound", max_length=20)
    subject: str = Field(max_length=200)
    summary: str | None = Field(default=None, max_length=4000)
    staff_user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    outcome: str | None = Field(default=None, max_length=100)
    logged_at: datetime | None = timestamp_field(nullable=True)


class Feedback(SQLModel, table=True):
    """A Net Promoter Score answer (0-10) with an optional comment."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("nps_score BETWEEN 0 AND 10", name="nps_range"),
        Index("ix_feedback_customer_at_score", "customer_id", "at", "id", "nps_score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    at: datetime = timestamp_field(index=True)
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
    at: datetime = timestamp_field()
    source: str = Field(max_length=50)
    notice_version: str = Field(max_length=20)
    recorded_by_user_id: int | None = Field(
        default=None, foreign_key="app_user.id", ondelete="SET NULL"
    )


class CustomerRestriction(SQLModel, table=True):
    """One period during which a marker (:data:`RESTRICTION_KINDS`) held for a customer:
    set with a reason, a time and who set it; cleared (with the same three) when it ends.
    A marker holds while its row has no ``cleared_at``; at most one such row per customer
    and kind (a partial unique index).

    A table of its own rather than columns on ``customer``: the customer row is
    version-locked (a marker there would turn open edit forms into conflicts), and a rights
    request must show each objection and restriction with when and why it was set and
    lifted. Segments and exports read the markers from the copies in ``customer_summary``.
    """

    __tablename__ = "customer_restriction"
    __table_args__ = (
        _one_of("kind", RESTRICTION_KINDS, "kind"),
        Index("uq_customer_restriction_current", "customer_id", "kind", unique=True,
              sqlite_where=text("cleared_at IS NULL"),
              postgresql_where=text("cleared_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=20)
    reason: str = Field(max_length=500)
    set_at: datetime = timestamp_field()
    set_by: str = Field(max_length=50)
    cleared_at: datetime | None = timestamp_field(nullable=True)
    cleared_by: str | None = Field(default=None, max_length=50)
    clear_reason: str | None = Field(default=None, max_length=500)


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
    created_at: datetime = timestamp_field()


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
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    snapshot_at: datetime | None = timestamp_field(nullable=True)
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
    locked_until: datetime | None = timestamp_field(nullable=True)
    last_login_at: datetime | None = timestamp_field(nullable=True)
    # Sign-in cookies issued before this moment no longer sign in (set by sign-out,
    # password change and deactivation), since the cookie itself cannot be recalled.
    sessions_revoked_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()


class AuditEvent(SQLModel, table=True):
    """One recorded action: who did what to which record, when, from where.

    ``changes`` holds JSON text (``{"field": [old, new]}`` for updates) so that the row is
    the same bytes on both engines. ``prev_hash`` and ``hash`` chain every event to the one
    before it (see :mod:`db.audit.trail`), and database triggers refuse DELETE and every UPDATE
    but an erasure's redaction of sealed details, so the table is append-only and any edit
    made around the triggers shows up in ``verify``.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity", "entity_id", "id"),
        Index("ix_audit_event_actor_id", "actor", "id"),
        Index("ix_audit_event_action_id", "action", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = timestamp_field(index=True)
    actor: str = Field(max_length=50)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=64)
    changes: str = Field(default="{}")
    source: str = Field(max_length=20)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # The details sealed apart from the chain (see db.audit.details): NULL on events written
    # before sealing; ``salt`` is dropped when an erasure redacts the details.
    changes_digest: str | None = Field(default=None, max_length=64)
    salt: str | None = Field(default=None, max_length=32)


class SuppressedEmail(SQLModel, table=True):
    """An erased person's e-mail address, kept only as a keyed hash of its normalised form
    (db.customers.suppression): forms and imports recognise the person without the address."""

    __tablename__ = "suppressed_email"

    email_hash: str = Field(primary_key=True, max_length=64)
    since: datetime = timestamp_field()
    reason: str = Field(max_length=20)
