"""The 360° customer profile: figures, orders, contacts, feedback, consent, cards, tags —
and the profile's own writes (log an interaction, record consent, set tags).

Reads check the lookup capability (payment cards need their own); writes check theirs,
validate, audit and commit in one transaction like every service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from db import audit, daily
from db import summary as customer_summary
from db.access import Actor, Capability, require
from db.customers import CustomerNotFound
from db.engine import read_session, write_session
from db.models import (
    CONSENT_PURPOSES,
    DIRECTIONS,
    INTERACTION_KINDS,
    ConsentEvent,
    Customer,
    CustomerTag,
    Feedback,
    Interaction,
    Order,
    PaymentMethod,
    Tag,
)
from db.tags import clean_tags, replace_tags, tags_of
from db.types import utcnow
from db.validation import InvalidFields


@dataclass(frozen=True)
class Figures:
    """What the customer is worth and how recently they bought."""

    lifetime_value: Decimal
    orders: int
    average_order: Decimal | None
    first_order_at: datetime | None
    last_order_at: datetime | None
    days_since_last_order: int | None
    latest_nps: int | None


@dataclass(frozen=True)
class MaskedCard:
    brand: str
    masked_number: str
    expiry: str
    expired: bool


def _live_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.deleted_at is not None:
        raise CustomerNotFound(f"There is no customer {customer_id}.")
    return customer


def figures(actor: Actor, customer_id: int, *, engine: Engine | None = None) -> Figures:
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        _live_customer(session, customer_id)
        total, count, first, last = session.exec(
            select(func.coalesce(func.sum(Order.amount), 0), func.count(),
                   func.min(Order.ordered_at), func.max(Order.ordered_at))
            .where(Order.customer_id == customer_id)).one()
        nps = session.exec(select(Feedback.nps_score).where(Feedback.customer_id == customer_id)
                           .order_by(col(Feedback.at).desc()).limit(1)).first()
    total = Decimal(str(total)).quantize(Decimal("0.01"))
    return Figures(
        lifetime_value=total, orders=count,
        average_order=(total / count).quantize(Decimal("0.01")) if count else None,
        first_order_at=first, last_order_at=last,
        days_since_last_order=(utcnow() - last).days if last else None, latest_nps=nps)


def orders(actor: Actor, customer_id: int, *, limit: int = 1_000,
           engine: Engine | None = None) -> list[Order]:
    """The customer's orders, newest first (at most ``limit``)."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return list(session.exec(select(Order).where(Order.customer_id == customer_id)
                                 .order_by(col(Order.ordered_at).desc()).limit(limit)))


def interactions(actor: Actor, customer_id: int, *, limit: int = 500,
                 engine: Engine | None = None) -> list[Interaction]:
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return list(session.exec(select(Interaction).where(Interaction.customer_id == customer_id)
                                 .order_by(col(Interaction.at).desc()).limit(limit)))


def feedback(actor: Actor, customer_id: int, *, engine: Engine | None = None) -> list[Feedback]:
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return list(session.exec(select(Feedback).where(Feedback.customer_id == customer_id)
                                 .order_by(col(Feedback.at).desc())))


def consent_history(actor: Actor, customer_id: int, *,
                    engine: Engine | None = None) -> list[ConsentEvent]:
    """Every grant and withdrawal, newest first."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return list(session.exec(select(ConsentEvent)
                                 .where(ConsentEvent.customer_id == customer_id)
                                 .order_by(col(ConsentEvent.at).desc(),
                                           col(ConsentEvent.id).desc())))


def current_consent(history: list[ConsentEvent]) -> dict[str, ConsentEvent | None]:
    """The newest event per purpose (None: never asked) from :func:`consent_history`."""
    state: dict[str, ConsentEvent | None] = dict.fromkeys(CONSENT_PURPOSES)
    for event in history:  # newest first
        if state.get(event.purpose) is None:
            state[event.purpose] = event
    return state


def payment_methods(actor: Actor, customer_id: int, *,
                    engine: Engine | None = None) -> list[MaskedCard]:
    """Cards as brand, last four and expiry only; the processor token never leaves here."""
    require(actor, Capability.VIEW_PAYMENT_DETAILS)
    today = utcnow().date()
    with read_session(engine) as session:
        cards = session.exec(select(PaymentMethod)
                             .where(PaymentMethod.customer_id == customer_id)
                             .order_by(col(PaymentMethod.id)))
        return [MaskedCard(card.brand, f"•••• {card.last4}",
                           f"{card.exp_month:02d}/{card.exp_year}",
                           (card.exp_year, card.exp_month) < (today.year, today.month))
                for card in cards]


def tags(actor: Actor, customer_id: int, *, engine: Engine | None = None) -> list[str]:
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return list(session.exec(select(Tag.name).join(CustomerTag)
                                 .where(CustomerTag.customer_id == customer_id)
                                 .order_by(Tag.name)))


def all_tags(actor: Actor, *, engine: Engine | None = None) -> list[str]:
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return list(session.exec(select(Tag.name).order_by(Tag.name)))


def set_tags(actor: Actor, customer_id: int, names: list[str], *,
             engine: Engine | None = None) -> list[str]:
    """Replace the customer's tags (new tag names are created); audited when they change."""
    require(actor, Capability.EDIT_MARKETING_FIELDS)
    wanted = clean_tags(names)
    with write_session(engine) as session:
        _live_customer(session, customer_id)
        replace_tags(session, actor=actor.username, customer_id=customer_id, wanted=wanted,
                     source="form")
        return wanted


def tags_for(actor: Actor, customer_ids: list[int], *,
             engine: Engine | None = None) -> dict[int, list[str]]:
    """Tags of many customers at once (the lookup grid)."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return tags_of(session, customer_ids)


def log_interaction(actor: Actor, customer_id: int, *, kind: str, subject: str,
                    direction: str = "outbound", summary: str | None = None,
                    outcome: str | None = None, at: datetime | None = None,
                    staff_user_id: int | None = None,
                    engine: Engine | None = None) -> Interaction:
    """Record a call, e-mail, meeting, ticket or note with the customer."""
    require(actor, Capability.EDIT_CUSTOMER)
    errors = {}
    if kind not in INTERACTION_KINDS:
        errors["kind"] = f"Choose one of: {', '.join(INTERACTION_KINDS)}."
    if direction not in DIRECTIONS:
        errors["direction"] = f"Choose one of: {', '.join(DIRECTIONS)}."
    if not subject.strip() or len(subject.strip()) > 200:
        errors["subject"] = "A subject is required (at most 200 characters)."
    if summary and len(summary) > 4000:
        errors["summary"] = "At most 4000 characters."
    if outcome and len(outcome) > 100:
        errors["outcome"] = "At most 100 characters."
    when = at or utcnow()
    if when > utcnow():
        errors["at"] = "An interaction cannot be in the future."
    if errors:
        raise InvalidFields(errors)
    with write_session(engine) as session:
        _live_customer(session, customer_id)
        interaction = Interaction(customer_id=customer_id, at=when, kind=kind,
                                  direction=direction, subject=subject.strip(),
                                  summary=(summary or "").strip() or None,
                                  outcome=(outcome or "").strip() or None,
                                  staff_user_id=staff_user_id)
        with daily.kept_current(session, [customer_id]):
            session.add(interaction)
            session.flush()
            customer_summary.refresh(session, [customer_id])
        audit.record(session, actor=actor.username, action="interaction.log",
                     entity="customer", entity_id=customer_id,
                     changes={"kind": kind, "subject": interaction.subject,
                              "interaction_id": interaction.id}, source="form")
        return interaction


def record_consent(actor: Actor, customer_id: int, *, purpose: str, granted: bool,
                   source: str, notice_version: str, recorded_by_user_id: int | None = None,
                   engine: Engine | None = None) -> ConsentEvent:
    """Append a grant or withdrawal; the history is never edited."""
    require(actor, Capability.EDIT_MARKETING_FIELDS)
    errors = {}
    if purpose not in CONSENT_PURPOSES:
        errors["purpose"] = f"Choose one of: {', '.join(CONSENT_PURPOSES)}."
    if not source.strip() or len(source.strip()) > 50:
        errors["source"] = "Say where the consent came from (at most 50 characters)."
    if not notice_version.strip() or len(notice_version.strip()) > 20:
        errors["notice_version"] = "Name the privacy notice version (at most 20 characters)."
    if errors:
        raise InvalidFields(errors)
    with write_session(engine) as session:
        _live_customer(session, customer_id)
        event = ConsentEvent(customer_id=customer_id, purpose=purpose, granted=granted,
                             at=utcnow(), source=source.strip(),
                             notice_version=notice_version.strip(),
                             recorded_by_user_id=recorded_by_user_id)
        session.add(event)
        customer_summary.refresh(session, [customer_id])
        audit.record(session, actor=actor.username, action="consent.change", entity="customer",
                     entity_id=customer_id,
                     changes={"purpose": purpose, "granted": granted, "source": event.source,
                              "notice_version": event.notice_version}, source="form")
        return event
