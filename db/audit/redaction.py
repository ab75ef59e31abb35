"""Removing an erased person's values from the audit trail without breaking its chain.

An erasure calls :func:`redact` inside its own transaction: every event about the customer,
and every other event whose details mention one of the person's identifying values (a
lookup export's search term, say), has its sealed details replaced by the redacted form
(:mod:`db.audit.details`); the erasure's own event then lists them, which is what lets
``verify`` tell a redaction from tampering. The database triggers allow this one update and
no other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, false, func, or_, select, update
from sqlmodel import Session

from db.audit import details
from db.core.sql import table_of
from db.models import AuditEvent

# Values shorter than this are not searched for in other events' details: "Li" or a
# two-digit fragment would match unrelated events, and redacting those loses real history.
SHORTEST_TERM = 5


@dataclass(frozen=True)
class Redaction:
    """What :func:`redact` did: the events whose details it removed, and how many events
    that hold the values predate sealed details and so could not be redacted."""

    event_ids: list[int]
    unredactable: int


def _mentions(terms: Iterable[str]) -> ColumnElement[bool]:
    """Details containing any of ``terms`` as stored: JSON-escaped, compared without case."""
    changes = func.lower(table_of(AuditEvent).c.changes)
    wanted = {json.dumps(term.strip().lower(), ensure_ascii=False)[1:-1] for term in terms
              if term and len(term.strip()) >= SHORTEST_TERM}
    return or_(false(), *(changes.contains(term, autoescape=True) for term in sorted(wanted)))


def redact(session: Session, *, customer_id: int, terms: Iterable[str],
           search_others: bool = True) -> Redaction:
    """Redact the details of every event about ``customer_id`` or mentioning ``terms``.

    Finding mentions reads every event's details (about a second per million events).
    ``search_others`` False reads only customer events that name no record (a lookup
    export's search term), which the index on (entity, entity_id) finds: what a run over
    thousands of customers can afford, one search per customer.
    """
    events = table_of(AuditEvent)
    customer = events.c.entity == "customer"
    where = [and_(customer, events.c.entity_id == str(customer_id)),
             _mentions(terms) if search_others
             else and_(customer, events.c.entity_id.is_(None), _mentions(terms))]
    found: dict[int, Row[Any]] = {}
    for condition in where:  # apart, so each uses its index (an OR of them would not)
        found |= {row.id: row for row in session.execute(
            select(events.c.id, events.c.changes, events.c.changes_digest, events.c.salt)
            .where(condition, events.c.action.not_in(sorted(details.REDACTING_ACTIONS))))}
    found = dict(sorted(found.items()))
    sealed = [row for row in found.values() if row.salt is not None]
    if sealed:
        session.execute(
            update(events).where(events.c.id == bindparam("event_id"))
            .values(changes=bindparam("redacted"), salt=None)
            .execution_options(synchronize_session=False),
            [{"event_id": row.id, "redacted": details.redacted(row.changes)} for row in sealed])
    return Redaction(event_ids=[row.id for row in sealed],
                     unredactable=sum(row.changes_digest is None for row in found.values()))

