"""Recording an order or a refund for a customer: the write every sales figure follows.

An order changes the customer's summary (count, spend, first and last order) and the KPI
tables, so :func:`db.derived.hook.customers_changed` moves them in the same transaction as the
order and its audit event.
Refunds are orders with a negative amount, so sums stay honest.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine

from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import write_session
from db.core.money import AmountTooLarge, NotAnAmount, TooManyDecimals, parse_amount
from db.core.types import utcnow
from db.customers.service import CustomerNotFound
from db.customers.validation import InvalidFields, text_errors
from db.derived.hook import customers_changed
from db.models import ORDER_CHANNELS, Customer, Order, is_live

# NUMERIC(12, 2): ten digits before the point.
_LARGEST = Decimal("9999999999.99")


def _amount(value: object, errors: dict[str, str]) -> Decimal:
    try:
        return parse_amount(value, largest=_LARGEST)
    except NotAnAmount:
        errors["amount"] = "Give the amount as a number, such as 49.90 (refunds: -49.90)."
    except AmountTooLarge:
        errors["amount"] = "The amount is too large."
    except TooManyDecimals:
        errors["amount"] = "At most two decimal places (whole cents)."
    return Decimal(0)


def record_order(actor: Actor, customer_id: int, *, amount: object, category: str,
                 channel: str, product: str, quantity: int = 1,
                 ordered_at: datetime | None = None,
                 engine: Engine | None = None) -> Order:
    """Add an order (or, with a negative amount, a refund) to a live customer.

    Amounts are in the house currency (EUR, the column's default): the sales figures add
    them up as they are.
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
    errors |= text_errors({"category": category, "product": product})
    if errors:
        raise InvalidFields(errors)
    with write_session(engine) as session:
        customer = session.get(Customer, customer_id)
        if customer is None or not is_live(customer):
            raise CustomerNotFound(f"There is no customer {customer_id}.")
        order = Order(customer_id=customer_id, ordered_at=when, amount=value,
                      category=category, channel=channel, product=product, quantity=quantity)
        with customers_changed(session, [customer_id]):
            session.add(order)
        trail.record(session, actor=actor.username, action="order.record", entity="customer",
                     entity_id=customer_id,
                     changes={"order_id": order.id, "amount": value, "category": category,
                              "channel": channel, "ordered_at": when}, source="form")
        return order
