"""A new customer created twice by one click too many.

Without an e-mail address nothing else stops a second "Create customer" click from writing
the same person again (with one, the second click would be told the address belongs to the
customer the first click just created). :func:`refuse_twin` finds the customer the same
person created from the same cleaned fields within :data:`db.audit.recent.DOUBLE_SUBMIT_WINDOW`
(from the ``customer.create`` audit events) and refuses with :class:`AlreadyCreated`, so the
page can open that customer instead.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from db.audit import recent
from db.core.access import Actor
from db.models import Customer, live


class AlreadyCreated(ValueError):
    """The same customer was created moments ago by the same person; nothing was written."""

    def __init__(self, existing_id: int) -> None:
        super().__init__(f"This customer was already created moments ago (customer "
                         f"{existing_id}); it was not created twice.")
        self.existing_id = existing_id


def refuse_twin(session: Session, actor: Actor, cleaned: dict[str, Any]) -> None:
    """Raise :class:`AlreadyCreated` when ``actor`` created a live customer with exactly
    ``cleaned`` (the validated fields) within the double-submit window."""
    ids = [int(write.entity_id) for write in recent.recent_writes(
        session, actor.username, action="customer.create", entity="customer")
        if write.entity_id is not None and write.entity_id.isdigit()]
    if not ids:
        return
    for customer in session.exec(select(Customer).where(col(Customer.id).in_(ids), live())
                                 .order_by(col(Customer.id).desc())):
        if all(getattr(customer, name) == value for name, value in cleaned.items()):
            assert customer.id is not None
            raise AlreadyCreated(customer.id)
