"""Recording orders and refunds: the amount as people type it, the fields every order needs,
who may record one, and what moves with it (audit event, the customer's summary)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.core.access import PermissionDenied
from db.core.types import utcnow
from db.customers import orders
from db.customers.orders import record_order
from db.customers.service import CustomerNotFound, soft_delete_customer
from db.customers.validation import InvalidFields
from db.derived.models import CustomerSummary
from db.models import AuditEvent, Order
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING


def _record(engine: Engine, customer_id: int, **fields: object) -> Order:
    values: dict = {"amount": "49.90", "category": "books", "channel": "web",
                    "product": "Paperback"} | fields
    return record_order(MANAGER, customer_id, engine=engine, **values)


@pytest.mark.parametrize(("typed", "stored"), [
    ("49.90", Decimal("49.90")), ("12,50", Decimal("12.50")), (" 3 ", Decimal("3")),
    (-20, Decimal("-20")), ("-5,00", Decimal("-5.00")),
])
def test_amount_as_typed_is_stored_exactly(engine: Engine, typed: object,
                                           stored: Decimal) -> None:
    customer = factories.customer(engine)
    order = _record(engine, customer.id, amount=typed)
    with Session(engine) as session:
        saved = session.get(Order, order.id)
        assert saved is not None and Decimal(str(saved.amount)) == stored


@pytest.mark.parametrize(("typed", "message"), [
    ("abc", "as a number"), ("1.234", "two decimal places"), ("1e12", "too large"),
    ("NaN", "too large"), ("", "as a number"),
])
def test_an_amount_that_is_not_money_is_refused(engine: Engine, typed: str,
                                                message: str) -> None:
    customer = factories.customer(engine)
    with pytest.raises(InvalidFields) as refused:
        _record(engine, customer.id, amount=typed)
    assert message in refused.value.errors["amount"]
    with Session(engine) as session:
        assert session.exec(select(Order)).all() == []


def test_every_problem_is_said_at_once(engine: Engine) -> None:
    customer = factories.customer(engine)
    with pytest.raises(InvalidFields) as refused:
        _record(engine, customer.id, category=" ", channel="fax", product="", quantity=0,
                ordered_at=utcnow() + timedelta(days=1))
    assert set(refused.value.errors) == {"category", "channel", "product", "quantity",
                                         "ordered_at"}


def test_a_time_without_zone_is_refused(engine: Engine) -> None:
    customer = factories.customer(engine)
    with pytest.raises(InvalidFields) as refused:
        _record(engine, customer.id, ordered_at=utcnow().replace(tzinfo=None))
    assert "time zone" in refused.value.errors["ordered_at"]


def test_marketing_may_not_record_orders(engine: Engine) -> None:
    customer = factories.customer(engine)
    with pytest.raises(PermissionDenied):
        record_order(MARKETING, customer.id, amount="1", category="books", channel="web",
                     product="Paperback", engine=engine)


def test_no_order_for_a_missing_or_deleted_customer(engine: Engine) -> None:
    customer = factories.customer(engine)
    soft_delete_customer(ADMIN, customer.id, engine=engine)
    for customer_id in (customer.id, customer.id + 1000):
        with pytest.raises(CustomerNotFound):
            _record(engine, customer_id)


def test_an_order_and_a_refund_move_the_summary_and_are_audited(engine: Engine) -> None:
    customer = factories.customer(engine)
    first = _record(engine, customer.id, amount="100.00")
    _record(engine, customer.id, amount="-30.00")
    with Session(engine) as session:
        row = session.get(CustomerSummary, customer.id)
        assert row is not None
        # The summary counts order rows, refunds included; spend is net of the refund.
        assert (row.order_count, row.spend_cents) == (2, 7000)
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "order.record")
                              .order_by(AuditEvent.id)).all()
    assert [json.loads(event.changes)["amount"] for event in events] == ["100.00", "-30.00"]
    assert json.loads(events[0].changes)["order_id"] == first.id
    assert {event.actor for event in events} == {MANAGER.username}


@pytest.mark.parametrize(("typed", "stored"), [("EUR", "EUR"), (" usd ", "USD"), ("chf", "CHF")])
def test_the_currency_is_an_iso_code_stored_upper_case_and_audited(
        engine: Engine, typed: str, stored: str) -> None:
    customer = factories.customer(engine)
    order = _record(engine, customer.id, currency=typed)
    with Session(engine) as session:
        saved = session.get(Order, order.id)
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "order.record")
                             ).one()
    assert saved is not None and saved.currency == stored
    assert json.loads(event.changes)["currency"] == stored


@pytest.mark.parametrize("typed", ["", "EU", "EURO", "ABC", "€", "ÉUR"])
def test_a_currency_that_is_not_iso_4217_is_refused_beside_its_field(
        engine: Engine, typed: str) -> None:
    customer = factories.customer(engine)
    with pytest.raises(InvalidFields) as refused:
        _record(engine, customer.id, currency=typed)
    assert "three-letter ISO 4217 code" in refused.value.errors["currency"]
    with Session(engine) as session:
        assert session.exec(select(Order)).all() == []


def test_the_same_order_submitted_twice_at_once_is_recorded_once(engine: Engine) -> None:
    customer = factories.customer(engine)
    first = _record(engine, customer.id, amount="19.90", product="Kettle")
    with pytest.raises(orders.AlreadyRecorded, match="already recorded") as refused:
        _record(engine, customer.id, amount="19.90", product="Kettle")
    assert refused.value.existing.id == first.id
    yesterday = utcnow().replace(microsecond=0) - timedelta(days=1)
    _record(engine, customer.id, amount="-5.00", ordered_at=yesterday)
    with pytest.raises(orders.AlreadyRecorded):
        _record(engine, customer.id, amount="-5,00", ordered_at=yesterday)
    with Session(engine) as session:
        assert len(session.exec(select(Order)).all()) == 2
        assert len(session.exec(select(AuditEvent)
                                .where(AuditEvent.action == "order.record")).all()) == 2


def test_a_different_order_or_another_clerk_or_a_later_one_is_recorded(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = factories.customer(engine)
    _record(engine, customer.id)
    _record(engine, customer.id, quantity=2)
    _record(engine, customer.id, currency="USD")
    record_order(ADMIN, customer.id, amount="49.90", category="books", channel="web",
                 product="Paperback", engine=engine)
    monkeypatch.setattr(orders, "DOUBLE_SUBMIT_WINDOW", timedelta(0))  # the window passed
    _record(engine, customer.id)
    with Session(engine) as session:
        assert len(session.exec(select(Order)).all()) == 5
