"""The profile's reads (figures, cards, consent state) and its audited writes."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.core.access import Actor, PermissionDenied
from db.core.engine import write_session
from db.core.types import utcnow
from db.customers import profile
from db.customers.service import CustomerNotFound, create_customer, soft_delete_customer
from db.customers.validation import InvalidFields
from db.derived import kpi_tables, summary
from db.models import INTERACTION_KINDS, AuditEvent, Feedback, Interaction, Order, PaymentMethod
from db.users.service import create_user
from tests.factories import MANAGER, MARKETING


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
    # As the KPI page counts them: a refund is not an order; the average is net ÷ orders.
    assert (result.orders, result.refunds, result.average_order) == (2, 1, Decimal("65.25"))
    assert result.days_since_last_order == 5
    assert result.latest_nps == 9


def test_figures_of_a_customer_without_orders(engine: Engine) -> None:
    lead = create_customer(MANAGER, {"first_name": "Lea", "last_name": "D", "country": "FR"},
                           engine=engine)
    result = profile.figures(MANAGER, lead.id, engine=engine)
    assert (result.lifetime_value, result.orders, result.refunds, result.average_order) == (
        Decimal("0.00"), 0, 0, None)
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
                           source="web", notice_version="2026-02", engine=engine)
    profile.record_consent(MARKETING, customer_id, purpose="email_marketing", granted=False,
                           source="phone", notice_version="2026-02", engine=engine)
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


@pytest.mark.parametrize("read", [profile.orders, profile.interactions, profile.feedback,
                                  profile.consent_history, profile.tags,
                                  profile.payment_methods])
def test_no_tab_of_a_deleted_customer_is_served(engine: Engine, customer_id: int,
                                                read: Callable[..., object]) -> None:
    assert read(MANAGER, customer_id, engine=engine) is not None
    soft_delete_customer(Actor("alex", "admin"), customer_id, engine=engine)
    with pytest.raises(CustomerNotFound):
        read(MANAGER, customer_id, engine=engine)


@pytest.fixture
def staff(engine: Engine) -> dict[str, tuple[Actor, int]]:
    """Accounts that log interactions: two managers and an admin, as (actor, user id)."""
    setup = Actor("setup", "admin")
    accounts = {}
    for username, role in (("morgan", "manager"), ("mel", "manager"), ("alex", "admin")):
        user = create_user(setup, username=username, display_name=username.title(), role=role,
                           password="a-long-enough-password", engine=engine)
        accounts[username] = (user.actor, user.id)
    return accounts


def _logged(engine: Engine, customer_id: int, actor: Actor, subject: str = "Delivery",
            **fields: str) -> Interaction:
    return profile.log_interaction(actor, customer_id, kind=fields.pop("kind", "call"),
                                   subject=subject, engine=engine, **fields)


def _age(engine: Engine, interaction_id: int, hours: float) -> None:
    """Pretend the interaction was logged ``hours`` ago."""
    with write_session(engine) as session:
        interaction = session.get(Interaction, interaction_id)
        assert interaction is not None
        interaction.logged_at = utcnow() - timedelta(hours=hours)
        session.add(interaction)


def test_the_same_contact_submitted_twice_is_logged_once(engine: Engine, customer_id: int,
                                                         staff: dict) -> None:
    morgan, morgan_id = staff["morgan"]
    first = _logged(engine, customer_id, morgan, summary="Parcel late")
    with pytest.raises(profile.AlreadyLogged) as caught:
        _logged(engine, customer_id, morgan, summary="Parcel late")
    assert caught.value.existing.id == first.id
    assert first.staff_user_id == morgan_id  # the author is the actor's own account
    # Anything different is a second contact: another subject, another author, later on.
    _logged(engine, customer_id, morgan, summary="Parcel found")
    _logged(engine, customer_id, staff["mel"][0], summary="Parcel late")
    _age(engine, first.id, hours=1)
    _logged(engine, customer_id, morgan, summary="Parcel late")
    assert len(profile.interactions(MANAGER, customer_id, engine=engine)) == 4
    assert len(_events(engine, "interaction.log")) == 4


def test_author_or_admin_may_change_an_interaction_for_a_day(engine: Engine, customer_id: int,
                                                             staff: dict) -> None:
    morgan, mel, alex = (staff[name][0] for name in ("morgan", "mel", "alex"))
    logged = _logged(engine, customer_id, morgan)

    def may(actor: Actor) -> bool:
        (current,) = [i for i in profile.interactions(actor, customer_id, engine=engine)
                      if i.id == logged.id]
        return profile.may_change_interaction(actor, current, engine=engine)

    assert (may(morgan), may(alex), may(mel), may(MARKETING)) == (True, True, False, False)
    _age(engine, logged.id, hours=23.9)
    assert (may(morgan), may(alex)) == (True, True)
    _age(engine, logged.id, hours=24.1)
    assert (may(morgan), may(alex)) == (False, False)
    with pytest.raises(PermissionDenied):
        profile.delete_interaction(alex, logged.id, engine=engine)
    with pytest.raises(PermissionDenied):
        profile.update_interaction(morgan, logged.id, kind="note", direction="internal",
                                   subject="Too late", engine=engine)


def test_others_are_refused_by_the_service(engine: Engine, customer_id: int,
                                           staff: dict) -> None:
    logged = _logged(engine, customer_id, staff["morgan"][0])
    for actor in (staff["mel"][0], MARKETING):
        with pytest.raises(PermissionDenied):
            profile.update_interaction(actor, logged.id, kind="note", direction="internal",
                                       subject="Mine now", engine=engine)
        with pytest.raises(PermissionDenied):
            profile.delete_interaction(actor, logged.id, engine=engine)
    assert profile.interactions(MANAGER, customer_id, engine=engine)[0].subject == "Delivery"


def test_a_correction_is_audited_old_to_new(engine: Engine, customer_id: int,
                                            staff: dict) -> None:
    morgan = staff["morgan"][0]
    logged = _logged(engine, customer_id, morgan, summary="Parcel late")
    with pytest.raises(InvalidFields) as caught:
        profile.update_interaction(morgan, logged.id, kind="fax", direction="outbound",
                                   subject=" ", engine=engine)
    assert set(caught.value.errors) == {"kind", "subject"}
    profile.update_interaction(morgan, logged.id, kind="email", direction="outbound",
                               subject="Delivery ", summary="Parcel lost", outcome="refund",
                               engine=engine)
    (event,) = _events(engine, "interaction.update")
    assert (event.actor, event.entity_id) == ("morgan", str(customer_id))
    assert json.loads(event.changes) == {"interaction_id": logged.id,
                                         "kind": ["call", "email"],
                                         "summary": ["Parcel late", "Parcel lost"],
                                         "outcome": [None, "refund"]}
    (current,) = profile.interactions(MANAGER, customer_id, engine=engine)
    assert (current.kind, current.summary, current.at) == ("email", "Parcel lost", logged.at)
    profile.update_interaction(staff["alex"][0], logged.id, kind="email", direction="outbound",
                               subject="Delivery", summary="Parcel lost", outcome="refund",
                               engine=engine)
    assert len(_events(engine, "interaction.update")) == 1  # nothing changed: nothing written


def test_a_deletion_is_audited_with_what_was_deleted(engine: Engine, customer_id: int,
                                                     staff: dict) -> None:
    morgan, morgan_id = staff["morgan"]
    logged = _logged(engine, customer_id, morgan, summary="Parcel late", outcome="resent")
    profile.delete_interaction(staff["alex"][0], logged.id, engine=engine)
    assert profile.interactions(MANAGER, customer_id, engine=engine) == []
    (event,) = _events(engine, "interaction.delete")
    assert event.actor == "alex"
    changes = json.loads(event.changes)
    assert changes.pop("interaction_id") == logged.id
    assert all(new is None for _, new in changes.values())
    assert {name: old for name, (old, _) in changes.items()} == {
        "at": logged.at.isoformat(), "kind": "call", "direction": "outbound",
        "subject": "Delivery", "summary": "Parcel late", "outcome": "resent",
        "staff_user_id": morgan_id, "logged_at": logged.logged_at.isoformat()}
    with pytest.raises(profile.InteractionNotFound):
        profile.delete_interaction(morgan, logged.id, engine=engine)


def test_corrections_and_deletions_keep_the_derived_tables_current(
    engine: Engine, staff: dict
) -> None:
    """Contacts logged, re-kinded and deleted at random: the contact counts per day and
    kind and each customer's last contact equal what a rebuild computes."""
    rng = random.Random(13)
    morgan, alex = staff["morgan"][0], staff["alex"][0]
    ids = [create_customer(MANAGER, {"first_name": f"P{n}", "last_name": "Test",
                                     "country": rng.choice(["DE", "FR"])}, engine=engine,
                           confirm=True).id for n in range(4)]
    logged: list[Interaction] = []
    for step in range(40):
        draw = rng.random()
        if draw < 0.5 or not logged:
            at = utcnow() - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
            logged.append(_logged(engine, rng.choice(ids), rng.choice([morgan, alex]),
                                  subject=f"contact {step}", at=at,
                                  kind=rng.choice(INTERACTION_KINDS)))
        elif draw < 0.8:
            chosen = rng.choice(logged)
            profile.update_interaction(alex, chosen.id, kind=rng.choice(INTERACTION_KINDS),
                                       direction="inbound", subject=f"fixed {step}",
                                       engine=engine)
        else:
            chosen = logged.pop(rng.randrange(len(logged)))
            profile.delete_interaction(alex, chosen.id, engine=engine)
    assert _events(engine, "interaction.update") and _events(engine, "interaction.delete")
    with engine.connect() as connection:
        kept_summary = connection.execute(select(summary.SUMMARY).order_by(
            summary.SUMMARY.c.customer_id)).all()
        kept_daily = {table.table.name: table.stored(connection) for table in kpi_tables.SUMMED}
    assert kept_daily["daily_interactions"]
    with engine.begin() as connection:
        summary.rebuild(connection)
        kpi_tables.rebuild(connection)
    with engine.connect() as connection:
        assert connection.execute(select(summary.SUMMARY).order_by(
            summary.SUMMARY.c.customer_id)).all() == kept_summary
        assert {table.table.name: table.stored(connection)
                for table in kpi_tables.SUMMED} == kept_daily
