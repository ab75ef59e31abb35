"""Customer records: create, edit (one or many), soft delete and restore — validated,
checked, audited.

Every function here is one transaction: the change, its audit events and the search index
move together. Edits name the version the editor saw; a record saved by someone else
since then is not overwritten (:class:`StaleRecord` says who changed what).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, func, or_
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from db.audit import trail
from db.core.access import Actor, Capability, PermissionDenied, require
from db.core.engine import read_session, write_session
from db.core.types import utcnow
from db.customers import suppression, twins
from db.customers.validation import InvalidFields, clean_customer_fields
from db.derived.hook import customers_changed
from db.models import AuditEvent, Customer, is_live, live

Row = TypeVar("Row")
# What the marketing role may change on a record: tags, and the preferred channel (consent
# has its own service).
MARKETING_FIELDS = frozenset({"preferred_channel", "tags"})


class CustomerNotFound(LookupError):
    """No such customer, or one that was deleted."""


class CustomerDeleted(CustomerNotFound):
    """The customer was soft-deleted: when, by whom (from the audit trail) and, for admins,
    who it was, so a profile link that still circulates can say so."""

    def __init__(self, gone: DeletedCustomer) -> None:
        who = f"Customer {gone.id}" + (f" ({gone.name})" if gone.name else "")
        super().__init__(f"{who} was deleted on {gone.deleted_at:%Y-%m-%d %H:%M} UTC "
                         f"by {gone.deleted_by or 'an unknown user'}.")
        self.gone = gone


class CustomerErased(CustomerNotFound):
    """The customer's personal data was erased: only their pseudonym and their orders remain
    (see :mod:`db.privacy.erasure`)."""

    def __init__(self, customer_id: int, pseudonym: str, erased_at: datetime) -> None:
        super().__init__(f"Customer {customer_id}'s personal data was erased on "
                         f"{erased_at:%Y-%m-%d}: only the pseudonym {pseudonym} remains, and "
                         "their orders still count in the figures under it.")
        self.pseudonym, self.erased_at = pseudonym, erased_at


class CustomerMerged(CustomerNotFound):
    """The customer was merged into ``survivor_id`` (:mod:`db.quality.merge`, which keeps
    every pointer one hop long), so an old link can follow it there."""

    def __init__(self, customer_id: int, survivor_id: int) -> None:
        super().__init__(f"Customer {customer_id} was merged into customer {survivor_id}.")
        self.customer_id, self.survivor_id = customer_id, survivor_id


@dataclass(frozen=True)
class DeletedCustomer:
    """A soft-deleted customer as admins list it; ``name`` is None for other roles."""

    id: int
    name: str | None
    country: str
    deleted_at: datetime
    deleted_by: str | None  # None: no audit event names who (e.g. deleted by a script)


class DuplicateEmail(ValueError):
    """Another customer already has this e-mail address."""

    def __init__(self, existing_id: int) -> None:
        super().__init__(f"Customer {existing_id} already has this e-mail address.")
        self.existing_id = existing_id


class PossibleDuplicate(ValueError):
    """Records that look like the same person; save again with ``confirm=True`` to proceed."""

    def __init__(self, candidates: list[Customer]) -> None:
        names = ", ".join(f"{c.first_name} {c.last_name} (#{c.id})" for c in candidates)
        super().__init__(f"This looks like an existing customer: {names}.")
        self.candidates = candidates


class StaleRecord(RuntimeError):
    """The record changed since the editor loaded it; nothing was saved."""

    def __init__(self, current: Customer, changes: list[AuditEvent]) -> None:
        who = ", ".join(sorted({event.actor for event in changes})) or "someone"
        super().__init__(f"{who} saved this customer after you opened it. "
                         "Reload to see their changes; yours were not saved.")
        self.current = current
        self.changes = changes


def get_customer(actor: Actor, customer_id: int, *, engine: Engine | None = None) -> Customer:
    """A live customer; :class:`CustomerDeleted` says when and by whom one was deleted,
    :class:`CustomerErased` that one was erased, :class:`CustomerMerged` into whom."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise CustomerNotFound(f"There is no customer {customer_id}.")
        if customer.erased_at is not None:
            raise CustomerErased(customer_id, customer.last_name, customer.erased_at)
        if customer.merged_into_id is not None:
            raise CustomerMerged(customer_id, customer.merged_into_id)
        if customer.deleted_at is not None:
            (gone,) = _as_deleted(session, actor, [customer])
            raise CustomerDeleted(gone)
        return customer


def stored_id(customer: Customer) -> int:
    """The id of a customer read from the database (the model types it optional, for rows
    not yet written)."""
    if customer.id is None:
        raise CustomerNotFound("This customer has not been saved yet.")
    return customer.id


def editable_fields(actor: Actor, fields: Iterable[str]) -> frozenset[str]:
    """Which of ``fields`` (customer fields, or ``"tags"``) this actor may change on a
    customer record: what the edit form and the lookup grid leave enabled;
    :func:`update_customer` and :func:`update_many` refuse the rest."""
    wanted = frozenset(fields)
    allowed = wanted & MARKETING_FIELDS if actor.can(Capability.EDIT_MARKETING_FIELDS) else set()
    if actor.can(Capability.EDIT_CUSTOMER):
        allowed |= wanted - {"tags"}
    return frozenset(allowed)


@dataclass(frozen=True)
class Rebased:
    """An unsaved edit moved onto the newest stored record (see :func:`rebase_edit`)."""

    values: dict[str, Any]  # what the form shows now: stored values plus re-applied edits
    reapplied: list[str]  # the editor's changes carried over, for fields nobody else touched
    colliding: dict[str, Any]  # the editor's values for fields someone else changed too


def rebase_edit(seen: Mapping[str, Any], mine: Mapping[str, Any],
                stored: Mapping[str, Any]) -> Rebased:
    """Carry an editor's unsaved changes ``mine`` from the record as they opened it
    (``seen``) onto the record as it is stored now.

    A field the other save left alone gets the editor's value again; a field both changed
    shows the stored value and the editor's value is returned apart, so nobody's change is
    overwritten without the editor seeing it. Fields the editor did not change always show
    the stored value, so saving again never writes them back.
    """
    values = dict(stored)
    reapplied: list[str] = []
    colliding: dict[str, Any] = {}
    for name, value in mine.items():
        if stored[name] == value:
            continue
        if stored[name] == seen[name]:
            values[name] = value
            reapplied.append(name)
        else:
            colliding[name] = value
    return Rebased(values, reapplied, colliding)


def require_fields(actor: Actor, names: set[str]) -> None:
    """Refuse a change to any field of ``names`` the role may not edit (the form's and the
    grid's saves both start here)."""
    refused = names - editable_fields(actor, names)
    if refused or not (names or actor.can(Capability.EDIT_MARKETING_FIELDS)):
        raise PermissionDenied(f"The {actor.role} role cannot change "
                               f"{', '.join(sorted(refused)) or 'customers'}.")


def _email_owner(session: Session, email: str, other_than: int | None) -> int | None:
    query = select(Customer.id).where(Customer.email == email)
    return session.exec(query.where(Customer.id != other_than) if other_than else query).first()


def _likely_duplicates(session: Session, fields: dict[str, Any]) -> list[Customer]:
    """Same phone, or the same name (any case) with the same postcode or birth date."""
    conditions = []
    if fields.get("phone"):
        conditions.append(Customer.phone == fields["phone"])
    same_name = (func.lower(Customer.first_name) == fields["first_name"].lower()) & (
        func.lower(Customer.last_name) == fields["last_name"].lower())
    if fields.get("postcode"):
        conditions.append(same_name & (Customer.postcode == fields["postcode"]))
    if fields.get("birth_date"):
        conditions.append(same_name & (Customer.birth_date == fields["birth_date"]))
    if not conditions:
        return []
    query = select(Customer).where(or_(*conditions), live())
    return _detached(session, list(session.exec(query.limit(5))))


def _detached(session: Session, objects: list[Row]) -> list[Row]:
    """Take loaded rows out of the session so they survive the rollback of the exception
    that carries them to the page (a rollback expires every row still in the session)."""
    for item in objects:
        session.expunge(item)
    return objects


def _refuse_suppressed(session: Session, email: str | None) -> None:
    """Refuse an address whose owner was erased (see :mod:`db.customers.suppression`)."""
    if email and (found := suppression.suppressed_since(session, [email])):
        raise InvalidFields({"email": suppression.REFUSAL.format(since=found[email])})


def create_customer(actor: Actor, fields: dict[str, Any], *, confirm: bool = False,
                    source: str = "form", engine: Engine | None = None) -> Customer:
    """Create a customer from typed fields (first and last name and country required).

    Refuses an e-mail that another customer has (:class:`DuplicateEmail`); asks for
    confirmation when the record looks like an existing person (:class:`PossibleDuplicate`);
    the same record just created by the same person raises ``twins.AlreadyCreated``.
    """
    require(actor, Capability.EDIT_CUSTOMER)
    errors = {name: "This field is required." for name in ("first_name", "last_name", "country")
              if not str(fields.get(name) or "").strip()}
    try:
        cleaned = clean_customer_fields(fields, country_of_record=None, today=utcnow().date())
    except InvalidFields as invalid:
        errors = invalid.errors | errors
    if errors:  # every problem at once, not the first one
        raise InvalidFields(errors)
    with write_session(engine) as session:
        if not confirm:  # "create anyway" is the user's word that this is another person
            twins.refuse_twin(session, actor, cleaned)
        if cleaned.get("email") and (owner := _email_owner(session, cleaned["email"], None)):
            raise DuplicateEmail(owner)
        _refuse_suppressed(session, cleaned.get("email"))
        if not confirm and (candidates := _likely_duplicates(session, cleaned)):
            raise PossibleDuplicate(candidates)
        customer = Customer(**cleaned, created_at=(now := utcnow()), updated_at=now)
        session.add(customer)
        session.flush()
        assert customer.id is not None  # flushed
        with customers_changed(session, [customer.id]):
            pass  # the new row is written: its summary row and search text follow
        session.refresh(customer)  # callers get every column, version included
        trail.record(session, actor=actor.username, action="customer.create",
                     entity="customer", entity_id=customer.id,
                     changes={name: [None, value] for name, value in cleaned.items()
                              if value is not None},
                     source=source)
        return customer


def apply_fields(session: Session, actor: Actor, customer: Customer,
                 cleaned: dict[str, Any], source: str) -> bool:
    """Write the fields that differ, with one audit event; False when nothing differed."""
    diff = {name: [getattr(customer, name), value] for name, value in cleaned.items()
            if getattr(customer, name) != value}
    if not diff:
        return False
    if "email" in diff and cleaned["email"] and (
            owner := _email_owner(session, cleaned["email"], customer.id)):
        raise DuplicateEmail(owner)
    if "email" in diff:
        _refuse_suppressed(session, cleaned["email"])
    assert customer.id is not None
    with customers_changed(session, [customer.id]):
        for name, (_, value) in diff.items():
            setattr(customer, name, value)
        customer.updated_at = utcnow()
        session.add(customer)
        session.flush()  # the version check happens here (SQLAlchemy version_id_col)
    session.refresh(customer)
    trail.record(session, actor=actor.username, action="customer.update", entity="customer",
                 entity_id=customer.id, changes=diff, source=source)
    return True


def _changes_since(session: Session, customer: Customer, version: int) -> list[AuditEvent]:
    """The saves that took the record from ``version`` to its current one, newest first
    (each save is one ``customer.update`` event and one version step)."""
    steps = max(1, min(10, customer.version - version))
    return list(session.exec(
        select(AuditEvent).where(AuditEvent.entity == "customer",
                                 AuditEvent.entity_id == str(customer.id),
                                 AuditEvent.action == "customer.update")
        .order_by(col(AuditEvent.id).desc()).limit(steps)))


def load_for_edit(session: Session, customer_id: int, expected_version: int) -> Customer:
    """The live customer to change, or :class:`StaleRecord` (with who changed what) when it
    is no longer at the version the editor showed."""
    customer = session.get(Customer, customer_id)
    if not is_live(customer):
        raise CustomerNotFound(f"There is no customer {customer_id}.")
    assert customer is not None
    if customer.version != expected_version:
        changes = _detached(session, _changes_since(session, customer, expected_version))
        raise StaleRecord(_detached(session, [customer])[0], changes)
    return customer


def update_customer(actor: Actor, customer_id: int, expected_version: int,
                    changes: dict[str, Any], *, source: str = "form",
                    engine: Engine | None = None) -> Customer:
    """Save ``changes`` to a customer the editor loaded at ``expected_version``.

    Validates every field first (:class:`InvalidFields`), refuses a stale copy
    (:class:`StaleRecord`), and writes nothing — not even an audit event — when no value
    actually changes.
    """
    require_fields(actor, set(changes))
    try:
        with write_session(engine) as session:
            customer = load_for_edit(session, customer_id, expected_version)
            cleaned = clean_customer_fields(changes, country_of_record=customer.country,
                                            today=utcnow().date())
            apply_fields(session, actor, customer, cleaned, source)
            return customer
    except StaleDataError:
        # Another transaction saved between our read and our write (PostgreSQL; on SQLite
        # the write lock taken at BEGIN rules this out).
        with read_session(engine) as session:
            current = session.get(Customer, customer_id)
            assert current is not None
            raise StaleRecord(current, _changes_since(session, current, expected_version)
                              ) from None


def soft_delete_customer(actor: Actor, customer_id: int, *,
                         engine: Engine | None = None) -> None:
    """Hide a customer from lookup and segments (admins only); the record stays for audit."""
    require(actor, Capability.ADMINISTER)
    with write_session(engine) as session:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.deleted_at is not None or customer.merged_into_id:
            raise CustomerNotFound(f"There is no customer {customer_id}.")
        with customers_changed(session, [customer_id]):  # leaves lookup, segments, KPIs
            customer.deleted_at = utcnow()
            session.add(customer)
        trail.record(session, actor=actor.username, action="customer.delete",
                     entity="customer", entity_id=customer_id,
                     changes={"deleted_at": [None, customer.deleted_at]}, source="form")



def restore_customer(actor: Actor, customer_id: int, *,
                     engine: Engine | None = None) -> Customer:
    """Undo a soft delete (admins only): the customer is back in lookup, segments and the
    KPIs, as :func:`soft_delete_customer` took them out, and the restore is audited."""
    require(actor, Capability.ADMINISTER)
    with write_session(engine) as session:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.deleted_at is None or customer.erased_at is not None:
            raise CustomerNotFound(f"There is no deleted customer {customer_id}.")
        deleted_at = customer.deleted_at
        with customers_changed(session, [customer_id]):  # back in lookup, segments, KPIs
            customer.deleted_at = None
            session.add(customer)
        session.refresh(customer)
        trail.record(session, actor=actor.username, action="customer.restore",
                     entity="customer", entity_id=customer_id,
                     changes={"deleted_at": [deleted_at, None]}, source="form")
        return customer


def _as_deleted(session: Session, actor: Actor,
                customers: list[Customer]) -> list[DeletedCustomer]:
    """The customers with who deleted each: the actor of their newest ``customer.delete``
    event (the audit trail is the record of who did what)."""
    deleters: dict[str, str] = {}
    if customers:
        events = session.exec(
            select(AuditEvent.entity_id, AuditEvent.actor)
            .where(AuditEvent.entity == "customer", AuditEvent.action == "customer.delete",
                   col(AuditEvent.entity_id).in_([str(c.id) for c in customers]))
            .order_by(col(AuditEvent.id)))
        deleters = {str(entity_id): who for entity_id, who in events}  # the newest wins
    named = actor.can(Capability.ADMINISTER)
    return [DeletedCustomer(id=c.id, name=f"{c.first_name} {c.last_name}" if named else None,
                            country=c.country, deleted_at=c.deleted_at,
                            deleted_by=deleters.get(str(c.id)))
            for c in customers if c.id is not None and c.deleted_at is not None]


def deleted_customers(actor: Actor, *, limit: int = 500,
                      engine: Engine | None = None) -> list[DeletedCustomer]:
    """Soft-deleted customers, the most recently deleted first (admins only); erased ones
    are not among them: nothing of theirs could be restored."""
    require(actor, Capability.ADMINISTER)
    with read_session(engine) as session:
        customers = list(session.exec(
            select(Customer).where(col(Customer.deleted_at).is_not(None),
                                   col(Customer.erased_at).is_(None))
            .order_by(col(Customer.deleted_at).desc(), col(Customer.id).desc()).limit(limit)))
        return _as_deleted(session, actor, customers)
