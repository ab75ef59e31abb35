"""The 360° customer profile: figures, orders, contacts, feedback, consent, cards, tags —
and the profile's own writes (log, correct or delete an interaction, record consent, set
tags).

Reads check the lookup capability (payment cards need their own); writes check theirs,
validate, audit and commit in one transaction like every service.

A logged interaction may be corrected or deleted by its author or an admin for
:data:`CHANGE_WINDOW` after it was logged (:func:`may_change_interaction`); later it is part
of the record. Logging the same contact twice within :data:`DOUBLE_SUBMIT_WINDOW` is taken
for a double submit and refused with :class:`AlreadyLogged`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Engine, case
from sqlalchemy import select as sql_select  # five columns: more than sqlmodel's types take
from sqlmodel import Session, col, func, select

from db.audit import trail
from db.core.access import Actor, Capability, PermissionDenied, require
from db.core.engine import read_session, write_session
from db.core.sql import table_of
from db.core.types import utcnow
from db.customers.service import CustomerNotFound
from db.customers.tags import clean_tags, replace_tags, tags_of
from db.customers.validation import InvalidFields, text_errors
from db.derived.hook import customers_changed
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
    User,
    is_live,
)

# The rows of a customer the profile lists in its tabs.
Row = TypeVar("Row", Order, Interaction, Feedback, ConsentEvent, PaymentMethod)


@dataclass(frozen=True)
class Figures:
    """What the customer is worth and how recently they bought."""

    lifetime_value: Decimal
    orders: int  # of zero or more, as the KPI page counts them
    refunds: int
    average_order: Decimal | None  # lifetime value ÷ orders, as the KPI page's average
    first_order_at: datetime | None
    last_order_at: datetime | None
    days_since_last_order: int | None
    latest_nps: int | None


# How long after logging an interaction its author or an admin may still change it.
CHANGE_WINDOW = timedelta(hours=24)
# The same contact logged again within this time is a double submit, not a second contact.
DOUBLE_SUBMIT_WINDOW = timedelta(seconds=30)
# What a correction may change; when and for whom it was logged stay as they were.
INTERACTION_FIELDS = ("kind", "direction", "subject", "summary", "outcome")


class InteractionNotFound(LookupError):
    """No such interaction (it may have been deleted meanwhile)."""


class AlreadyLogged(ValueError):
    """The same contact was logged moments ago (a double submit); nothing was written."""

    def __init__(self, existing: Interaction) -> None:
        super().__init__(f"This interaction was already logged at {existing.logged_at:%H:%M:%S}"
                         " UTC; it was not logged twice.")
        self.existing = existing


@dataclass(frozen=True)
class MaskedCard:
    brand: str
    masked_number: str
    expiry: str
    expired: bool


def _live_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or not is_live(customer):
        raise CustomerNotFound(f"There is no customer {customer_id}.")
    return customer


def figures(actor: Actor, customer_id: int, *, engine: Engine | None = None) -> Figures:
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        _live_customer(session, customer_id)
        refund = case((col(Order.amount) < 0, 1), else_=0)
        total, rows, refunds, first, last = session.execute(
            sql_select(func.coalesce(func.sum(Order.amount), 0), func.count(),
                       func.coalesce(func.sum(refund), 0),
                       func.min(Order.ordered_at), func.max(Order.ordered_at))
            .where(col(Order.customer_id) == customer_id)).one()
        count = rows - refunds
        nps = session.exec(select(Feedback.nps_score).where(Feedback.customer_id == customer_id)
                           .order_by(col(Feedback.at).desc()).limit(1)).first()
    total = Decimal(str(total)).quantize(Decimal("0.01"))
    return Figures(
        lifetime_value=total, orders=count, refunds=refunds,
        average_order=(total / count).quantize(Decimal("0.01")) if count else None,
        first_order_at=first, last_order_at=last,
        days_since_last_order=(utcnow() - last).days if last else None, latest_nps=nps)


def _rows_of(actor: Actor, model: type[Row], customer_id: int, newest_first: tuple[str, ...],
             limit: int | None, engine: Engine | None, *, any_state: bool = False
             ) -> list[Row]:
    """A live customer's rows of ``model``, newest first by the ``newest_first`` columns: one
    read for every tab of the profile, so each checks the role and refuses a deleted
    customer the same way. ``any_state``: a soft-deleted or erased customer's too (admins
    only, see :func:`held_rows`)."""
    require(actor, Capability.ADMINISTER if any_state else Capability.LOOKUP)
    table = table_of(model)
    with read_session(engine) as session:
        if not any_state:
            _live_customer(session, customer_id)
        elif session.get(Customer, customer_id) is None:
            raise CustomerNotFound(f"There is no customer {customer_id}.")
        return list(session.exec(
            select(model).where(table.c.customer_id == customer_id)
            .order_by(*(table.c[name].desc() for name in newest_first)).limit(limit)))


def orders(actor: Actor, customer_id: int, *, limit: int | None = 1_000,
           engine: Engine | None = None) -> list[Order]:
    """The customer's orders, newest first (at most ``limit``; None: all)."""
    return _rows_of(actor, Order, customer_id, ("ordered_at",), limit, engine)


def interactions(actor: Actor, customer_id: int, *, limit: int | None = 500,
                 engine: Engine | None = None) -> list[Interaction]:
    """The customer's contacts, newest first (at most ``limit``; None: all)."""
    return _rows_of(actor, Interaction, customer_id, ("at",), limit, engine)


def feedback(actor: Actor, customer_id: int, *, engine: Engine | None = None) -> list[Feedback]:
    """The customer's survey answers, newest first."""
    return _rows_of(actor, Feedback, customer_id, ("at",), None, engine)


def consent_history(actor: Actor, customer_id: int, *,
                    engine: Engine | None = None) -> list[ConsentEvent]:
    """Every grant and withdrawal, newest first."""
    return _rows_of(actor, ConsentEvent, customer_id, ("at", "id"), None, engine)


def held_rows(actor: Actor, model: type[Row], customer_id: int, *,
              engine: Engine | None = None) -> list[Row]:
    """Every row of ``model`` (orders, interactions, feedback, consent events, payment
    methods) held about a customer, live, soft-deleted or erased alike, newest first: what a
    subject access request hands over. Admins only; a payment method's token is the
    caller's to leave out (:func:`masked`)."""
    newest_first = ("at", "id") if "at" in table_of(model).c else ("id",)
    if model is Order:
        newest_first = ("ordered_at", "id")
    return _rows_of(actor, model, customer_id, newest_first, None, engine, any_state=True)


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
        _live_customer(session, customer_id)
        cards = session.exec(select(PaymentMethod)
                             .where(PaymentMethod.customer_id == customer_id)
                             .order_by(col(PaymentMethod.id)))
        return [masked(card, today) for card in cards]


def masked(card: PaymentMethod, today: date) -> MaskedCard:
    """A card as it may be shown: brand, last four and expiry, never the token."""
    return MaskedCard(card.brand, f"•••• {card.last4}", f"{card.exp_month:02d}/{card.exp_year}",
                      (card.exp_year, card.exp_month) < (today.year, today.month))


def tags(actor: Actor, customer_id: int, *, engine: Engine | None = None) -> list[str]:
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        _live_customer(session, customer_id)
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


def _interaction_fields(*, kind: str, direction: str, subject: str, summary: str | None,
                       outcome: str | None) -> dict[str, Any]:
    """The fields of a logged or corrected interaction, trimmed; every problem at once."""
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
    errors |= text_errors({"subject": subject, "summary": summary, "outcome": outcome},
                          multiline=("summary",))
    if errors:
        raise InvalidFields(errors)
    return {"kind": kind, "direction": direction, "subject": subject.strip(),
            "summary": (summary or "").strip() or None,
            "outcome": (outcome or "").strip() or None}


def _user_id(session: Session, actor: Actor) -> int | None:
    """The actor's account (None for a command-line operator without one)."""
    return session.exec(select(User.id).where(User.username == actor.username)).first()


def _lock_customer(session: Session, customer_id: int) -> None:
    """Take the customer's row lock, so two writes for one customer check and write one
    after the other (PostgreSQL; SQLite writes one at a time anyway)."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


def log_interaction(actor: Actor, customer_id: int, *, kind: str, subject: str,
                    direction: str = "outbound", summary: str | None = None,
                    outcome: str | None = None, at: datetime | None = None,
                    staff_user_id: int | None = None,
                    engine: Engine | None = None) -> Interaction:
    """Record a call, e-mail, meeting, ticket or note with the customer.

    ``staff_user_id`` (the author) defaults to the actor's own account. The same contact by
    the same author logged again within :data:`DOUBLE_SUBMIT_WINDOW` (a second click before
    the form cleared) raises :class:`AlreadyLogged` instead of writing a duplicate.
    """
    require(actor, Capability.EDIT_CUSTOMER)
    try:
        fields = _interaction_fields(kind=kind, direction=direction, subject=subject,
                                     summary=summary, outcome=outcome)
        errors = {}
    except InvalidFields as invalid:
        fields, errors = {}, invalid.errors
    now = utcnow()
    when = at or now
    if when > now:
        errors["at"] = "An interaction cannot be in the future."
    if errors:
        raise InvalidFields(errors)
    with write_session(engine) as session:
        _live_customer(session, customer_id)
        _lock_customer(session, customer_id)
        author = staff_user_id if staff_user_id is not None else _user_id(session, actor)
        twin = select(Interaction).where(
            Interaction.customer_id == customer_id,
            col(Interaction.logged_at) >= now - DOUBLE_SUBMIT_WINDOW,
            col(Interaction.staff_user_id).is_not_distinct_from(author),
            *(col(getattr(Interaction, name)).is_not_distinct_from(value)
              for name, value in fields.items()))
        if at is not None:  # a contact typed in with its own time is a twin only at that time
            twin = twin.where(Interaction.at == when)
        if (existing := session.exec(twin.limit(1)).first()) is not None:
            session.expunge(existing)
            raise AlreadyLogged(existing)
        interaction = Interaction(customer_id=customer_id, at=when, logged_at=now,
                                  staff_user_id=author, **fields)
        with customers_changed(session, [customer_id]):
            session.add(interaction)
        trail.record(session, actor=actor.username, action="interaction.log",
                     entity="customer", entity_id=customer_id,
                     changes={"kind": kind, "subject": interaction.subject,
                              "interaction_id": interaction.id}, source="form")
        return interaction


def _may_change(session: Session, actor: Actor, interaction: Interaction) -> bool:
    if not actor.can(Capability.EDIT_CUSTOMER) or interaction.logged_at is None:
        return False
    if utcnow() - interaction.logged_at > CHANGE_WINDOW:
        return False
    if actor.can(Capability.ADMINISTER):
        return True
    return (interaction.staff_user_id is not None
            and interaction.staff_user_id == _user_id(session, actor))


def may_change_interaction(actor: Actor, interaction: Interaction, *,
                           engine: Engine | None = None) -> bool:
    """Whether ``actor`` may correct or delete ``interaction``: its author or an admin
    (both able to log interactions), until :data:`CHANGE_WINDOW` after it was logged."""
    if interaction.logged_at is None or not actor.can(Capability.EDIT_CUSTOMER):
        return False  # no query for the many old rows of a profile
    with read_session(engine) as session:
        return _may_change(session, actor, interaction)


def _changeable(session: Session, actor: Actor, interaction_id: int) -> Interaction:
    """The interaction, locked with its customer, if ``actor`` may change it now."""
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise InteractionNotFound(f"There is no interaction {interaction_id}.")
    _live_customer(session, interaction.customer_id)
    _lock_customer(session, interaction.customer_id)
    if not _may_change(session, actor, interaction):
        raise PermissionDenied("Only the person who logged an interaction, or an admin, can "
                               "change it, and only within 24 hours of logging it.")
    return interaction


def update_interaction(actor: Actor, interaction_id: int, *, kind: str, direction: str,
                       subject: str, summary: str | None = None, outcome: str | None = None,
                       engine: Engine | None = None) -> Interaction:
    """Correct a logged interaction (see :func:`may_change_interaction`); audited as old →
    new per changed field. Writes nothing when no field changes."""
    require(actor, Capability.EDIT_CUSTOMER)
    fields = _interaction_fields(kind=kind, direction=direction, subject=subject,
                                 summary=summary, outcome=outcome)
    with write_session(engine) as session:
        interaction = _changeable(session, actor, interaction_id)
        diff = {name: [getattr(interaction, name), value] for name, value in fields.items()
                if getattr(interaction, name) != value}
        if not diff:
            return interaction
        # The kind files the contact under another daily_interactions cell.
        with customers_changed(session, [interaction.customer_id]):
            for name, (_, value) in diff.items():
                setattr(interaction, name, value)
            session.add(interaction)
        trail.record(session, actor=actor.username, action="interaction.update",
                     entity="customer", entity_id=interaction.customer_id,
                     changes={"interaction_id": interaction_id, **diff}, source="form")
        return interaction


def delete_interaction(actor: Actor, interaction_id: int, *,
                       engine: Engine | None = None) -> None:
    """Delete a logged interaction for good (see :func:`may_change_interaction`); the audit
    event keeps every field it had, and the contact counts and last-contact dates follow."""
    require(actor, Capability.EDIT_CUSTOMER)
    with write_session(engine) as session:
        interaction = _changeable(session, actor, interaction_id)
        customer_id = interaction.customer_id
        deleted = {name: [getattr(interaction, name), None]
                   for name in ("at", *INTERACTION_FIELDS, "staff_user_id", "logged_at")}
        with customers_changed(session, [customer_id]):
            session.delete(interaction)
        trail.record(session, actor=actor.username, action="interaction.delete",
                     entity="customer", entity_id=customer_id,
                     changes={"interaction_id": interaction_id, **deleted}, source="form")


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
    errors |= text_errors({"source": source, "notice_version": notice_version})
    if errors:
        raise InvalidFields(errors)
    with write_session(engine) as session:
        _live_customer(session, customer_id)
        event = ConsentEvent(customer_id=customer_id, purpose=purpose, granted=granted,
                             at=utcnow(), source=source.strip(),
                             notice_version=notice_version.strip(),
                             recorded_by_user_id=recorded_by_user_id)
        with customers_changed(session, [customer_id]):
            session.add(event)
        trail.record(session, actor=actor.username, action="consent.change", entity="customer",
                     entity_id=customer_id,
                     changes={"purpose": purpose, "granted": granted, "source": event.source,
                              "notice_version": event.notice_version}, source="form")
        return event
