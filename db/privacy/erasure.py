"""Erasure ("the right to be forgotten"): a customer's personal data removed for good.

What stays, and why: the customer row itself, under a random pseudonym ("Erased #3F9A1C2B"),
with its country, status, source and dates, so the orders, refunds, contacts and NPS scores
that belong to it still count in every KPI (revenue does not change when a customer leaves)
while nothing left identifies the person. What goes: name, e-mail, phone, address, birth
date, the other profile fields and the customer number; the text of their contacts,
feedback and objection or restriction reasons; their payment methods, tags,
static-segment memberships and prediction scores (profiling of the person); and their
values in the audit trail (:mod:`db.audit.redaction`), whose chain still verifies. The
e-mail's keyed hash goes on the suppression list (:mod:`db.customers.suppression`) so the
person is not brought back by the next import unnoticed. One transaction, one
``customer.erase`` event.

Not reached (the README says so): backups taken before the erasure, and copies outside
custdb (exports already downloaded).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, case, delete, update
from sqlmodel import Session, col, select

from db.audit import details, trail
from db.audit.redaction import redact
from db.core.access import Actor, Capability, require
from db.core.engine import write_session
from db.core.types import utcnow
from db.customers import suppression
from db.customers.service import CustomerNotFound
from db.derived.hook import customers_changed
from db.models import (
    Customer,
    CustomerRestriction,
    CustomerTag,
    Feedback,
    Interaction,
    PaymentMethod,
    SegmentMember,
    lock_customers,
)
from db.predict.models import CustomerPrediction

# Every customer column that describes the person; all become empty. The names stay
# required, so they become "Erased" and the pseudonym.
PERSONAL_FIELDS = ("email", "phone", "street", "postcode", "city", "birth_date", "gender",
                   "occupation", "income_band", "preferred_channel", "external_ref")
ERASED_NAME = "Erased"


class ErasureRefused(ValueError):
    """The erasure was not carried out; the message says why."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, for the page to report."""

    customer_id: int
    pseudonym: str
    redacted_events: int
    unredactable_events: int  # audit events from before details were sealed
    suppressed: bool  # the e-mail went on the suppression list


def confirms(customer: Customer, typed: str) -> bool:
    """Whether ``typed`` is the customer's number or e-mail address (any case): what the
    admin types to show they mean this customer."""
    typed = typed.strip()
    return typed == str(customer.id) or bool(
        customer.email and typed.casefold() == customer.email.casefold())


def erase_customer(actor: Actor, customer_id: int, *, confirmation: str,
                   engine: Engine | None = None) -> Erasure:
    """Erase one customer at their request (admins only), confirmed by typing their e-mail
    address or customer number."""
    require(actor, Capability.ADMINISTER)
    with write_session(engine) as session:
        lock_customers(session, [customer_id])
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise CustomerNotFound(f"There is no customer {customer_id}.")
        if customer.erased_at is not None:
            raise ErasureRefused(f"Customer {customer_id} was already erased on "
                                 f"{customer.erased_at:%Y-%m-%d}.")
        if not confirms(customer, confirmation):
            raise ErasureRefused("To confirm, type this customer's e-mail address or their "
                                 f"number ({customer_id}) exactly.")
        return anonymise(session, actor, customer, reason="request", suppress=True)


def anonymise(session: Session, actor: Actor, customer: Customer, *, reason: str,
              suppress: bool, search_others: bool = True) -> Erasure:
    """Erase ``customer`` in the caller's transaction (the caller holds their row lock and
    has checked the role): an erasure request, or the retention rule (``suppress`` False:
    someone past retention may come back as a new customer). ``search_others`` False
    searches only events that name no record for the person's values (see
    :func:`db.audit.redaction.redact`). The records merged into the customer (the same
    person's duplicates, :mod:`db.quality.merge`) are erased first, the same way."""
    assert customer.id is not None
    customer_id = customer.id
    merged = list(session.exec(select(Customer).where(
        col(Customer.merged_into_id) == customer_id, col(Customer.erased_at).is_(None))))
    for record in merged:
        anonymise(session, actor, record, reason=reason, suppress=suppress,
                  search_others=search_others)
    terms = [customer.email or "", customer.phone or "",
             f"{customer.first_name} {customer.last_name}", customer.external_ref or ""]
    suppressed = bool(suppress and customer.email
                      and suppression.suppress(session, customer.email, reason="erasure"))
    pseudonym = "#" + secrets.token_hex(4).upper()
    now = utcnow()
    with customers_changed(session, [customer_id]):
        for name in PERSONAL_FIELDS:
            setattr(customer, name, None)
        customer.first_name, customer.last_name = ERASED_NAME, pseudonym
        customer.erased_at = customer.updated_at = now
        session.add(customer)
        session.flush()
        session.execute(update(Interaction).where(col(Interaction.customer_id) == customer_id)
                        .values(subject=details.ERASED, summary=None, outcome=None))
        session.execute(update(Feedback).where(col(Feedback.customer_id) == customer_id)
                        .values(comment=None))
        # The markers stay as evidence that an objection was honoured; their reasons may
        # hold the person's words.
        session.execute(update(CustomerRestriction)
                        .where(col(CustomerRestriction.customer_id) == customer_id)
                        .values(reason=details.ERASED, clear_reason=case(
                            (col(CustomerRestriction.clear_reason).is_(None), None),
                            else_=details.ERASED)))
        for linked in (PaymentMethod, CustomerTag, SegmentMember, CustomerPrediction):
            session.execute(delete(linked).where(col(linked.customer_id) == customer_id))
    redaction = redact(session, customer_id=customer_id, terms=terms,
                       search_others=search_others)
    trail.record(session, actor=actor.username, action="customer.erase", entity="customer",
                 entity_id=customer_id,
                 changes={"pseudonym": pseudonym, "reason": reason,
                          "redacted_events": redaction.event_ids,
                          "unredactable_events": redaction.unredactable,
                          "suppressed": suppressed},
                 source="form")
    return Erasure(customer_id, pseudonym, len(redaction.event_ids), redaction.unredactable,
                   suppressed)
