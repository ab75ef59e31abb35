"""Keeps ``customer_summary`` current: refresh some customers inside a write, or rebuild all.

Segments and KPIs ask "how many orders, how much spend, when last" for a million customers at
once; reading that from ten million orders takes seconds, from one row per customer a few
milliseconds. The rows are derived data, so the same query fills them in both cases: a write
service calls :func:`refresh` with the customers it touched (in its own transaction), and
``python -m db.derived rebuild`` recomputes the table from scratch. A test checks that the
two agree after a random workload. The row also copies the customer's profile fields that
segments test, so a customer edit refreshes it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Integer,
    Select,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    select,
)
from sqlmodel import Session

from db.core.sql import IDS, cents, filled, ids_parameter, table_of
from db.derived.models import CHANNEL_BITS, CustomerSummary
from db.models import (
    CONSENT_PURPOSES,
    RESTRICTION_KINDS,
    ConsentEvent,
    Customer,
    CustomerRestriction,
    Feedback,
    Interaction,
    Order,
    live,
    lock_customers,
)

SUMMARY = table_of(CustomerSummary)
CUSTOMER = table_of(Customer).c
ORDER = table_of(Order).c
CONTACT = table_of(Interaction).c
# Above this many customers, a refresh recomputes everyone rather than an IN list.
_LIST_LIMIT = 5_000


def _latest(table: Table, column: str, *where: ColumnElement[bool]) -> ColumnElement[Any]:
    """The newest value of ``column`` of ``table`` for the outer customer (ties: the later
    row)."""
    return (select(table.c[column]).where(table.c.customer_id == CUSTOMER.id, *where)
            .order_by(table.c.at.desc(), table.c.id.desc()).limit(1).scalar_subquery())


def _marked(kind: str) -> ColumnElement[bool]:
    """Whether the outer customer's ``kind`` marker holds now (a row not yet cleared)."""
    marker = table_of(CustomerRestriction).c
    return exists().where(marker.customer_id == CUSTOMER.id, marker.kind == kind,
                          marker.cleared_at.is_(None))


def summary_rows(customer_ids: BindParameter[Any] | None = None) -> Select[Any]:
    """The summary rows, in ``customer_summary`` column order, of some or all customers."""
    orders = select(
        ORDER.customer_id, func.count().label("order_count"),
        cast(func.sum(cents(ORDER.amount)), BigInteger).label("spend_cents"),
        func.min(ORDER.ordered_at).label("first_at"), func.max(ORDER.ordered_at).label("last_at"),
        cast(func.sum(case((ORDER.amount > 0, cents(ORDER.amount)), else_=0)),
             BigInteger).label("gross_cents"),
        cast(func.sum(case(*((ORDER.channel == channel, bit)
                             for channel, bit in CHANNEL_BITS.items()), else_=0).distinct()),
             Integer).label("channels"),
    ).group_by(ORDER.customer_id)
    contacts = (select(CONTACT.customer_id, func.max(CONTACT.at).label("last_at"))
                .group_by(CONTACT.customer_id))
    if customer_ids is not None:
        orders = orders.where(ORDER.customer_id.in_(customer_ids))
        contacts = contacts.where(CONTACT.customer_id.in_(customer_ids))
    order_totals = orders.subquery()
    last_contact = contacts.subquery()
    consent = table_of(ConsentEvent)
    values: dict[str, ColumnElement[Any]] = {
        "customer_id": CUSTOMER.id,
        "order_count": func.coalesce(order_totals.c.order_count, 0),
        "spend_cents": func.coalesce(order_totals.c.spend_cents, cast(0, BigInteger)),
        "first_order_at": order_totals.c.first_at, "last_order_at": order_totals.c.last_at,
        "last_interaction_at": last_contact.c.last_at,
        "latest_nps": cast(_latest(table_of(Feedback), "nps_score"), Integer),
        "gross_cents": func.coalesce(order_totals.c.gross_cents, cast(0, BigInteger)),
        "channels": func.coalesce(order_totals.c.channels, 0),
        **{"consent_" + purpose: func.coalesce(
            _latest(consent, "granted", consent.c.purpose == purpose), false())
           for purpose in CONSENT_PURPOSES},
        **profile_copies(),
        **{kind: _marked(kind) for kind in RESTRICTION_KINDS},
    }
    rows = (
        select(*(values[name].label(name) for name in _columns()))
        .outerjoin(order_totals, order_totals.c.customer_id == CUSTOMER.id)
        .outerjoin(last_contact, last_contact.c.customer_id == CUSTOMER.id)
    )
    if customer_ids is not None:
        rows = rows.where(CUSTOMER.id.in_(customer_ids))
    return rows


def profile_copies() -> dict[str, ColumnElement[Any]]:
    """The customer's own fields the summary copies, by summary column."""
    return {"live": live(),
            **{name: CUSTOMER[name] for name in ("country", "status", "gender", "birth_date",
                                          "income_band", "source", "created_at")},
            "has_email": filled(CUSTOMER.email), "has_phone": filled(CUSTOMER.phone)}


def _columns() -> list[str]:
    return [column.name for column in SUMMARY.c]


def refresh(executor: Session | Connection, customer_ids: Iterable[int]) -> None:
    """Recompute the summary rows of ``customer_ids`` inside the caller's transaction."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    if isinstance(executor, Session):
        executor.flush()  # the rows below are computed from what this session wrote
    if len(ids) > _LIST_LIMIT:
        rebuild(executor)
        return
    # Two writes for one customer at once would both delete and re-insert its row; on
    # PostgreSQL the second waits here for the first to commit (SQLite writes one at a time).
    lock_customers(executor, ids)
    executor.execute(delete(SUMMARY).where(SUMMARY.c.customer_id.in_(ids)))
    executor.execute(_REFRESH, {IDS: ids})


# Built once: see db.core.sql.ids_parameter.
_REFRESH = insert(SUMMARY).from_select(_columns(), summary_rows(ids_parameter()))


def rebuild(executor: Session | Connection) -> int:
    """Recompute every summary row; returns how many there are."""
    if isinstance(executor, Session):
        executor.flush()
    executor.execute(delete(SUMMARY))
    executor.execute(insert(SUMMARY).from_select(_columns(), summary_rows()))
    return executor.execute(select(func.count()).select_from(SUMMARY)).scalar_one()


def differences(connection: Connection) -> int:
    """How many stored summary rows differ from a fresh computation (0: all current)."""
    fresh = summary_rows().subquery()
    stored = SUMMARY.alias("stored")
    fresh_columns = list(fresh.c)
    matches = and_(*(stored.c[name].is_not_distinct_from(fresh_columns[index])
                     for index, name in enumerate(_columns())))
    missing = select(func.count()).select_from(fresh).where(
        ~select(stored.c.customer_id).where(matches).exists())
    extra = select(func.count()).select_from(SUMMARY).where(
        ~SUMMARY.c.customer_id.in_(select(CUSTOMER.id)))
    return connection.execute(missing).scalar_one() + connection.execute(extra).scalar_one()
