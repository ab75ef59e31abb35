"""Shared builders for tests: the three roles as actors, and customers, orders, contacts and
users made through the real services (so every row a test starts from passed the same
validation, audit and derived-table refresh the app uses); survey answers and payment cards,
which no service writes, with the derived tables kept current as a service would.

Each builder takes the fields a test cares about and fills the rest with plain defaults.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from db.core.access import Actor
from db.core.engine import write_session
from db.core.types import utcnow
from db.customers.orders import record_order
from db.customers.profile import log_interaction
from db.customers.service import create_customer
from db.derived.hook import customers_changed
from db.models import Customer, Feedback, Interaction, Order, PaymentMethod
from db.users.service import UserView, create_user

ADMIN = Actor("ada", "admin")
MANAGER = Actor("morgan", "manager")
MARKETING = Actor("maya", "marketing")


def customer(engine: Engine, first_name: str = "Test", last_name: str = "Customer", *,
             country: str = "DE", **fields: Any) -> Customer:
    """A new customer (duplicates allowed: tests often make namesakes on purpose)."""
    return create_customer(ADMIN, {"first_name": first_name, "last_name": last_name,
                                   "country": country, **fields},
                           engine=engine, confirm=True)


def order(engine: Engine, customer_id: int, amount: object = "10.00", *,
          ordered_at: datetime | None = None, category: str = "books", channel: str = "web",
          product: str = "Paperback", quantity: int = 1) -> Order:
    """An order (a negative amount is a refund) through the order service."""
    return record_order(ADMIN, customer_id, amount=amount, category=category, channel=channel,
                        product=product, quantity=quantity, ordered_at=ordered_at,
                        engine=engine)


def contact(engine: Engine, customer_id: int, subject: str = "Follow-up", *,
            kind: str = "call", at: datetime | None = None) -> Interaction:
    """A logged interaction through the profile service."""
    return log_interaction(ADMIN, customer_id, kind=kind, subject=subject, at=at,
                           engine=engine)


def user(engine: Engine, username: str, role: str = "marketing", *,
         password: str = "a long test password 1") -> UserView:
    """A staff account through the user service."""
    return create_user(ADMIN, username=username, display_name=username.title(), role=role,
                       password=password, engine=engine)


def feedback(engine: Engine, customer_id: int, nps_score: int = 9, *,
             comment: str | None = None, at: datetime | None = None) -> Feedback:
    """A survey answer. No service writes them (surveys arrive in bulk), so this writes the
    row itself and keeps the derived tables current as a service would."""
    with write_session(engine) as session:
        answer = Feedback(customer_id=customer_id, nps_score=nps_score, comment=comment,
                          at=at or utcnow())
        with customers_changed(session, [customer_id]):
            session.add(answer)
        session.flush()
        session.refresh(answer)
        session.expunge(answer)
        return answer


def card(engine: Engine, customer_id: int, *, brand: str = "visa", last4: str = "4242",
         exp_month: int = 12, exp_year: int = 2030,
         processor_token: str = "tok_test_0001") -> PaymentMethod:
    """A stored payment method as the processor tokenised it (no service writes them)."""
    with write_session(engine) as session:
        method = PaymentMethod(customer_id=customer_id, brand=brand, last4=last4,
                               exp_month=exp_month, exp_year=exp_year,
                               processor_token=processor_token)
        session.add(method)
        session.flush()
        session.refresh(method)
        session.expunge(method)
        return method
