"""The profile's reads (figures, cards, consent state) and its audited writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db import profile
from db.access import Actor, PermissionDenied
from db.customers import CustomerNotFound, create_customer, soft_delete_customer
from db.engine import write_session
from db.models import AuditEvent, Feedback, Order, PaymentMethod
from db.types import utcnow
from db.validation import InvalidFields

MANAGER = Actor("morgan", "manager")
MARKETING = Actor("maya", "marketing")


@pytest.fixture
def customer_id(engine: Engine) -> int:
    customer = create_customer(MANAGER, {"first_name": "Ada", "last_name": "Byron",
                                         "country": "GB"}, engine=engine)
    now = utcnow()
    with write_session(engine) as session:
        for days, amount in ((40, "100.00"), (10, "50.50"), (5, "-20.00")):
            session.add(Order(customer_id=customer.id, ordered_at=now - timedelta(days=days),
                              amount=Decimal(amount), category="books", channel="web",
                              product="Novel"))
        session.add(Feedback(customer_id=customer.id, at=now - timedelta(days=30), nps_score=6))
        session.add(Feedback(customer_id=customer.id, at=now - timedelta(days=3), nps_score=9))
        session.add(PaymentMethod(customer_id=customer.id, brand="visa", last4="4242",
                                  exp_month=1, exp_year=2020, processor_token="tok_secret"))
    assert customer.id is not None
    return customer.id


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_figures_sum_refunds_and_pick_the_latest_answer(engine: Engine, customer_id: int) -> None:
    result = profile.figures(MARKETING, customer_id, engine=engine)
    assert result.lifetime_value == Decimal("130.50")
    assert (result.orders, result.average_order) == (3, Decimal("43.50"))
    assert result.days_since_last_order == 5
    assert result.latest_nps == 9


def test_figures_of_a_customer_without_orders(engine: Engine) -> None:
    lead = create_customer(MANAGER, {"first_name": "Lea", "last_name": "D", "country": "FR"},
                           engine=engine)
    result = profile.figures(MANAGER, lead.id, engine=engine)
    assert (result.lifetime_value, result.orders, result.average_order) == (Decimal("0.00"),
                                                                            0, None)
    assert result.last_order_at is None and result.latest_nps is None


def test_cards_are_masked_and_hidden_from_marketing(engine: Engine, customer_id: int) -> None:
    (card,) = profile.payment_methods(MANAGER, customer_id, engine=engine)
    assert (card.brand, card.masked_number, card.expiry, card.expired) == (
        "visa", "•••• 4242", "01/2020", True)
    assert "tok_secret" not in repr(card)
    with pytest.raises(PermissionDenied):
        profile.payment_methods(MARKETING, customer_id, engine=engine)


def test_consent_history_and_current_state(engine: Engine, customer_id: int) -> None:
    profile.record_consent(MARKETING, customer_id, purpose="email_marketing", granted=True,
                           source="web form", notice_version="2026-02", engine=engine)
    profile.record_consent(MARKETING, customer_id, purpose="email_marketing", granted=False,
                           source="phone call", notice_version="2026-02", engine=engine)
    history = profile.consent_history(MANAGER, customer_id, engine=engine)
    assert [event.granted for event in history] == [False, True]
    state = profile.current_consent(history)
    assert state["email_marketing"] is not None and state["email_marketing"].granted is False
    assert state["sms"] is None
    assert len(_events(engine, "consent.change")) == 2


def test_consent_needs_a_source_and_notice(engine: Engine, customer_id: int) -> None:
    with pytest.raises(InvalidFields) as caught:
        profile.record_consent(MARKETING, customer_id, purpose="fax", granted=True, source=" ",
                               notice_version="", engine=engine)
    assert set(caught.value.errors) == {"purpose", "source", "notice_version"}


def test_tags_replace_create_and_audit_only_changes(engine: Engine, customer_id: int) -> None:
    assert profile.set_tags(MARKETING, customer_id, ["VIP", " cycling ", "vip"],
                            engine=engine) == ["cycling", "vip"]
    assert profile.tags(MANAGER, customer_id, engine=engine) == ["cycling", "vip"]
    profile.set_tags(MARKETING, customer_id, ["vip", "cycling"], engine=engine)
    (event,) = _events(engine, "customer.tags")
    assert json.loads(event.changes) == {"tags": ["", "cycling, vip"]}
    profile.set_tags(MARKETING, customer_id, [], engine=engine)
    assert profile.tags(MANAGER, customer_id, engine=engine) == []
    assert "vip" in profile.all_tags(MANAGER, engine=engine)


def test_log_interaction_validates_and_audits(engine: Engine, customer_id: int) -> None:
    with pytest.raises(PermissionDenied):
        profile.log_interaction(MARKETING, customer_id, kind="call", subject="Hi", engine=engine)
    with pytest.raises(InvalidFields) as caught:
        profile.log_interaction(MANAGER, customer_id, kind="fax", subject=" ",
                                at=datetime(2999, 1, 1, tzinfo=UTC), engine=engine)
    assert set(caught.value.errors) == {"kind", "subject", "at"}
    logged = profile.log_interaction(MANAGER, customer_id, kind="call", subject="Delivery",
                                     summary="Parcel late", engine=engine)
    assert profile.interactions(MANAGER, customer_id, engine=engine)[0].id == logged.id
    (event,) = _events(engine, "interaction.log")
    assert json.loads(event.changes)["interaction_id"] == logged.id


def test_deleted_customers_take_no_new_records(engine: Engine, customer_id: int) -> None:
    soft_delete_customer(Actor("alex", "admin"), customer_id, engine=engine)
    with pytest.raises(CustomerNotFound):
        profile.figures(MANAGER, customer_id, engine=engine)
    with pytest.raises(CustomerNotFound):
        profile.log_interaction(MANAGER, customer_id, kind="note", subject="x", engine=engine)
