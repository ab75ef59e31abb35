"""A reviewer's verdict on a pair of possible duplicates, and forgetting a customer's pairs.

:func:`mark` records "same person" or "not the same" in ``duplicate_decision`` (a later verdict
on the pair replaces the earlier), audited as ``quality.duplicate_marked``. "Not the same"
also takes the pair off the stored run at once, and every later run leaves it out
(:func:`db.quality.candidates.find_duplicates`). "Same person" leaves the pair listed: it is
still a duplicate until it is merged, and the merge removes it with :func:`forget_customer`.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, or_
from sqlmodel import Session

from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import write_session
from db.core.sql import table_of
from db.core.types import utcnow
from db.customers.service import CustomerNotFound
from db.models import Customer, is_live, lock_customers
from db.quality.models import DuplicateCandidate, DuplicateDecision


class SamePerson(ValueError):
    """A pair needs two different customers."""


def mark(actor: Actor, left_id: int, right_id: int, *, same: bool,
         engine: Engine | None = None) -> DuplicateDecision:
    """Record the verdict on the pair (in either order); :class:`CustomerNotFound` when one
    of them is not a live customer. Admins and managers."""
    require(actor, Capability.EDIT_CUSTOMER)
    if left_id == right_id:
        raise SamePerson(f"Customer {left_id} cannot be a duplicate of itself.")
    left_id, right_id = sorted((left_id, right_id))
    with write_session(engine) as session:
        lock_customers(session, [left_id, right_id])
        for customer_id in (left_id, right_id):
            if not is_live(session.get(Customer, customer_id)):
                raise CustomerNotFound(f"There is no customer {customer_id}.")
        decision = session.get(DuplicateDecision, (left_id, right_id))
        before = None if decision is None else decision.same
        if before is same:  # said again (a second click): nothing to record
            assert decision is not None
            session.expunge(decision)
            return decision
        if decision is None:
            decision = DuplicateDecision(left_id=left_id, right_id=right_id, same=same,
                                         decided_by=actor.username)
        decision.same, decision.decided_by, decision.decided_at = same, actor.username, utcnow()
        session.add(decision)
        if not same:
            candidate = table_of(DuplicateCandidate).c
            session.execute(delete(table_of(DuplicateCandidate)).where(
                candidate.left_id == left_id, candidate.right_id == right_id))
        trail.record(session, actor=actor.username, action="quality.duplicate_marked",
                     entity="customer", entity_id=left_id,
                     changes={"left_id": left_id, "right_id": right_id,
                              "same": [before, same]},
                     source="cli" if actor.username.startswith("cli:") else "form")
        session.flush()
        session.expunge(decision)
        return decision


def forget_customer(session: Session, customer_id: int) -> int:
    """Drop the stored candidate pairs naming ``customer_id`` inside the caller's
    transaction (a merge calls it for the merged record); how many rows went. Verdicts stay:
    they are history, and the merged record is no longer live, so it is never compared."""
    candidate = table_of(DuplicateCandidate).c
    result = session.execute(delete(table_of(DuplicateCandidate)).where(
        or_(candidate.left_id == customer_id, candidate.right_id == customer_id)))
    return int(getattr(result, "rowcount", 0) or 0)
