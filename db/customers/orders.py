"""Recording an order or a refund for a customer: the write every sales figure follows.

An order changes the customer's summary (count, spend, first and last order) and the KPI
tables, so :func:`db.derived.hook.customers_changed` moves them in the same transaction as the
order and its audit event.
Refunds are orders with a negative amount, so sums stay honest.

The same order recorded again by the same person within :data:`DOUBLE_SUBMIT_WINDOW` (a
second click before the form cleared) is refused with :class:`AlreadyRecorded`, as a
contact logged twice is (:class:`db.customers.profile.AlreadyLogged`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.admin import settings
from db.audit import recent, trail
from db.core.access import Actor, Capability, require
from db.core.engine import write_session
from db.core.money import LARGEST_AMOUNT, AmountTooLarge, NotAnAmount, TooManyDecimals, parse_amount
from db.core.types import utcnow
from db.customers.service import CustomerNotFound
from db.customers.validation import (
    InvalidFields,
    InvalidValue,
    normalise_currency,
    text_errors,
)
from db.derived import vocabulary
from db.derived.hook import customers_changed
from db.models import ORDER_CHANNELS, Customer, Order, is_live

# The same order recorded again by the same person within this time is a double submit.
DOUBLE_SUBMIT_WINDOW = recent.DOUBLE_SUBMIT_WINDOW


class AlreadyRecorded(ValueError):
    """The same order was recorded moments ago (a double submit); nothing was written."""

    def __init__(self, existing: Order) -> None:
        super().__init__(f"This order was already recorded (order {existing.id}); it was not "
                         "recorded twice.")
        self.existing = existing


def _amount(value: object, errors: dict[str, str]) -> Decimal:
    try:
        return parse_amount(value, largest=LARGEST_AMOUNT)
    except NotAnAmount:
        errors["amount"] = "Give the amount as a number, such as 49.90."
    except AmountTooLarge:
        errors["amount"] = "The amount is too large."
    except TooManyDecimals:
        errors["amount"] = "At most two decimal places (whole cents)."
    return Decimal(0)


def may_record(actor: Actor) -> bool:
    """Whether ``actor`` may record orders and refunds (forms ask here, not the role)."""
    return actor.can(Capability.EDIT_CUSTOMER)


def record_order(actor: Actor, customer_id: int, *, amount: object, category: str,
                 channel: str, product: str, quantity: int = 1,
                 ordered_at: datetime | None = None, currency: str | None = None,
                 engine: Engine | None = None) -> Order:
    """Add an order (or, with a negative amount, a refund) to a live customer.

    ``currency`` is an ISO 4217 code (upper-cased; by default the house currency, a
    setting: :mod:`db.admin.settings`). The sales figures add
    amounts up as they are, whatever their currency. ``ordered_at`` defaults to now.

    The same order (amount, currency, category, channel, product, quantity and, when given,
    ``ordered_at``) recorded by the same actor for the same customer within
    :data:`DOUBLE_SUBMIT_WINDOW` raises :class:`AlreadyRecorded` and writes nothing.
    """
    require(actor, Capability.EDIT_CUSTOMER)
    errors: dict[str, str] = {}
    value = _amount(amount, errors)
    category, product = category.strip(), product.strip()
    if not category or len(category) > 50:
        errors["category"] = "A category is required (at most 50 characters)."
    if channel not in ORDER_CHANNELS:
        errors["channel"] = f"Choose one of: {', '.join(ORDER_CHANNELS)}."
    if not product or len(product) > 120:
        errors["product"] = "A product is required (at most 120 characters)."
    if not isinstance(quantity, int) or quantity < 1:
        errors["quantity"] = "The quantity is a whole number of at least 1."
    when = ordered_at or utcnow()
    if when.tzinfo is None:
        errors["ordered_at"] = "The order time needs a time zone."
    elif when > utcnow():
        errors["ordered_at"] = "An order cannot be in the future."
    if currency is None:
        currency = settings.current(engine=engine).house_currency
    try:
        currency = normalise_currency(currency)
    except InvalidValue as error:
        errors["currency"] = str(error)
    errors |= text_errors({"category": category, "product": product})
    if errors:
        raise InvalidFields(errors)
    with write_session(engine) as session:
        customer = session.get(Customer, customer_id)
        if customer is None or not is_live(customer):
            raise CustomerNotFound(f"There is no customer {customer_id}.")
        # Lock the customer, so two submits of one order check and write one after the
        # other (PostgreSQL; SQLite writes one at a time anyway).
        session.execute(select(Customer.id).where(Customer.id == customer_id)
                        .with_for_update())
        order = Order(customer_id=customer_id, ordered_at=when, amount=value,
                      currency=currency, category=category, channel=channel,
                      product=product, quantity=quantity)
        if (twin := _twin(session, actor, order, given_time=ordered_at is not None)) is not None:
            session.expunge(twin)
            raise AlreadyRecorded(twin)
        with customers_changed(session, [customer_id]):
            session.add(order)
        vocabulary.note(session, vocabulary.CATEGORY, [category])
        trail.record(session, actor=actor.username, action="order.record", entity="customer",
                     entity_id=customer_id,
                     changes={"order_id": order.id, "amount": value, "currency": currency,
                              "category": category, "channel": channel, "product": product,
                              "quantity": quantity, "ordered_at": when}, source="form")
        return order


def _twin(session: Session, actor: Actor, order: Order, *, given_time: bool) -> Order | None:
    """The same order as ``order``, recorded by ``actor`` within the double-submit window.

    An order has no time of recording of its own: the window is read from the audit events
    that recorded this customer's orders (few, and found by the entity index).
    """
    ids = [write.changes.get("order_id") for write in recent.recent_writes(
        session, actor.username, action="order.record", entity="customer",
        entity_id=order.customer_id, window=DOUBLE_SUBMIT_WINDOW)]
    if not ids:
        return None
    same = select(Order).where(
        col(Order.id).in_([order_id for order_id in ids if isinstance(order_id, int)]),
        Order.amount == order.amount, Order.currency == order.currency,
        Order.category == order.category, Order.channel == order.channel,
        Order.product == order.product, Order.quantity == order.quantity)
    if given_time:  # an order typed in with its own time is a twin only at that time
        same = same.where(Order.ordered_at == order.ordered_at)
    return session.exec(same.limit(1)).first()
