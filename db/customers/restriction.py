"""A customer's objection and restriction of processing: set, clear, read.

Two markers (:data:`db.models.RESTRICTION_KINDS`): ``do_not_contact``, the customer objected
(GDPR art. 21) and is contacted no more, and ``restricted``, processing is restricted
(art. 18) while, say, a dispute about their data is settled. Either keeps the customer out of
every export (:func:`db.exports.exportable` reads the summary's copies) and out of a segment
preview's "may be emailed" count; a subject access request is not such an export.

Setting and clearing are a rights request's work, so both are for admins
(``Capability.ADMINISTER``); both need a reason, are audited (``customer.restrict``,
``customer.unrestrict``, naming the marker and the reason) and refresh the customer's
derived rows in the same transaction. Everyone who can open a profile can read the markers,
so nobody contacts a customer who objected by mistake.

Each period a marker held is one :class:`db.models.CustomerRestriction` row, kept after it
is cleared: the history says who set and lifted it, when and why.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import read_session, write_session
from db.core.types import utcnow
from db.customers.service import CustomerNotFound
from db.customers.validation import InvalidFields, text_errors
from db.derived.hook import customers_changed
from db.models import (
    RESTRICTION_KINDS,
    Customer,
    CustomerRestriction,
    is_live,
    lock_customers,
)

# What each marker is called wherever a person reads it.
LABELS = {"do_not_contact": "Do not contact (objection)",
          "restricted": "Restricted processing"}
REASON_MAX = 500


class MarkerError(ValueError):
    """The marker is already set, or not set, as the request assumed; the message says so."""


def may_change(actor: Actor) -> bool:
    """Whether ``actor`` may set and clear markers (the page shows the form only then)."""
    return actor.can(Capability.ADMINISTER)


def _clean_reason(kind: str, reason: str, field: str = "reason") -> str:
    errors = {}
    if kind not in RESTRICTION_KINDS:
        errors["kind"] = f"Choose one of: {', '.join(RESTRICTION_KINDS)}."
    cleaned = reason.strip()
    if not cleaned:
        errors[field] = "Give a reason (for example, the customer's request and its date)."
    elif len(cleaned) > REASON_MAX:
        errors[field] = f"Keep the reason to {REASON_MAX} characters at most."
    errors |= text_errors({field: reason})
    if errors:
        raise InvalidFields(errors)
    return cleaned


def _open(session: Session, customer_id: int, kind: str) -> CustomerRestriction | None:
    return session.exec(select(CustomerRestriction).where(
        CustomerRestriction.customer_id == customer_id, CustomerRestriction.kind == kind,
        col(CustomerRestriction.cleared_at).is_(None))).first()


def _locked_live(session: Session, customer_id: int) -> None:
    """Lock the customer (two admins marking them at once queue here) and check they exist."""
    lock_customers(session, [customer_id])
    if not is_live(session.get(Customer, customer_id)):
        raise CustomerNotFound(f"There is no customer {customer_id}.")


def set_marker(actor: Actor, customer_id: int, kind: str, reason: str, *,
               engine: Engine | None = None) -> CustomerRestriction:
    """Mark the customer ``kind`` for ``reason`` (admins); audited as ``customer.restrict``.
    :class:`MarkerError` when the marker already holds."""
    require(actor, Capability.ADMINISTER)
    cleaned = _clean_reason(kind, reason)
    with write_session(engine) as session:
        _locked_live(session, customer_id)
        held = _open(session, customer_id, kind)
        if held is not None:
            raise MarkerError(f"{LABELS[kind]} is already set for customer {customer_id}, "
                              f"since {held.set_at:%Y-%m-%d} by {held.set_by}.")
        marker = CustomerRestriction(customer_id=customer_id, kind=kind, reason=cleaned,
                                     set_at=utcnow(), set_by=actor.username)
        with customers_changed(session, [customer_id]):
            session.add(marker)
        trail.record(session, actor=actor.username, action="customer.restrict",
                     entity="customer", entity_id=customer_id,
                     changes={kind: [False, True], "reason": cleaned}, source="form")
        return marker


def clear_marker(actor: Actor, customer_id: int, kind: str, reason: str, *,
                 engine: Engine | None = None) -> CustomerRestriction:
    """Lift the customer's ``kind`` marker for ``reason`` (admins); the row is kept with who
    cleared it, when and why, and the change audited as ``customer.unrestrict``.
    :class:`MarkerError` when the marker does not hold."""
    require(actor, Capability.ADMINISTER)
    cleaned = _clean_reason(kind, reason)
    with write_session(engine) as session:
        _locked_live(session, customer_id)
        held = _open(session, customer_id, kind)
        if held is None:
            raise MarkerError(f"{LABELS[kind]} is not set for customer {customer_id}.")
        with customers_changed(session, [customer_id]):
            held.cleared_at = utcnow()
            held.cleared_by = actor.username
            held.clear_reason = cleaned
            session.add(held)
        trail.record(session, actor=actor.username, action="customer.unrestrict",
                     entity="customer", entity_id=customer_id,
                     changes={kind: [True, False], "reason": cleaned,
                              "set_reason": held.reason,
                              "set_at": held.set_at.isoformat()}, source="form")
        return held


def current(actor: Actor, customer_id: int, *, engine: Engine | None = None
            ) -> dict[str, CustomerRestriction]:
    """The markers that hold for the customer now, by kind (everyone who sees profiles)."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return {marker.kind: marker for marker in session.exec(
            select(CustomerRestriction).where(
                CustomerRestriction.customer_id == customer_id,
                col(CustomerRestriction.cleared_at).is_(None)))}


def held_by(actor: Actor, customer_ids: Iterable[int], *, engine: Engine | None = None
            ) -> dict[int, list[str]]:
    """The kinds of marker holding now for each of ``customer_ids`` that has any (a page of
    lookup results: one query)."""
    require(actor, Capability.LOOKUP)
    ids = sorted(set(customer_ids))
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    with read_session(engine) as session:
        for customer_id, kind in session.exec(
                select(CustomerRestriction.customer_id, CustomerRestriction.kind).where(
                    col(CustomerRestriction.customer_id).in_(ids),
                    col(CustomerRestriction.cleared_at).is_(None))
                .order_by(col(CustomerRestriction.customer_id), col(CustomerRestriction.kind))):
            found.setdefault(customer_id, []).append(kind)
    return found


def history(actor: Actor, customer_id: int, *, engine: Engine | None = None
            ) -> list[CustomerRestriction]:
    """Every period a marker held for the customer, newest first (everyone who sees
    profiles)."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return list(session.exec(select(CustomerRestriction).where(
            CustomerRestriction.customer_id == customer_id).order_by(
            col(CustomerRestriction.set_at).desc(), col(CustomerRestriction.id).desc())))
