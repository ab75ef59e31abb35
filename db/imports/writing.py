"""Writing an import's plans in bulk, and its audit events when it ends.

One statement per kind of row and chunk (never an ORM object per row); updates grouped by
the fields they set. When the import ends, every customer it touched gets one audit event,
``customer.import``, naming the import with the fields' ``[old, new]`` or how many orders
and contacts it added: that is the "changed by import N" of the customer's history.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlmodel import Session

from db.audit import trail
from db.core.bulk import insert_rows
from db.core.sql import table_of
from db.derived import vocabulary
from db.imports.lookup import CUSTOMER, Plan, batches
from db.models import ConsentEvent, Interaction, Order, User

ORDERS = table_of(Order)
CONTACTS = table_of(Interaction)
CONSENT = table_of(ConsentEvent)
USERS = table_of(User)


class Writer:
    """Writes plans in bulk and, when the import ends, one audit event per customer it
    touched (``customer.import`` naming the import, with the fields' ``[old, new]`` or how
    many orders and contacts it added)."""

    def __init__(self, session: Session, actor: str, import_id: int) -> None:
        self.session, self.actor, self.import_id = session, actor, import_id
        self.notes: dict[int, dict[str, Any]] = defaultdict(dict)
        # Consent rows are recorded by the importing user's account (none for an operator).
        self.recorder = session.execute(
            select(USERS.c.id).where(USERS.c.username == actor)).scalar()

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows (dicts with the same keys): ``COPY`` on PostgreSQL, which adapts the
        Python values itself; an executemany on SQLite, where SQLAlchemy turns timestamps
        into the text SQLite stores."""
        if not rows:
            return
        if self.session.get_bind().dialect.name == "postgresql":
            columns = list(rows[0])
            insert_rows(self.session.connection(), table, columns,
                        ([row[name] for name in columns] for row in rows))
        else:
            self.session.execute(insert(table), rows)

    def write(self, plan: Plan) -> None:
        self._insert(CUSTOMER, plan.customers)
        by_fields: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for customer_id, values, _ in plan.updates:
            by_fields[tuple(sorted(values))].append({"_id": customer_id, **values})
        for rows in by_fields.values():
            self.session.execute(
                update(CUSTOMER).where(CUSTOMER.c.id == bindparam("_id")), rows)
        self._insert(ORDERS, plan.orders)
        vocabulary.note(self.session, vocabulary.CATEGORY,
                        (row["category"] for row in plan.orders))
        self._insert(CONTACTS, plan.contacts)
        self._insert(CONSENT, [{**row, "recorded_by_user_id": self.recorder}
                               for row in plan.consent])
        for customer_id, note in plan.notes.items():
            kept = self.notes[customer_id]
            for name, value in note.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    kept[name] = kept.get(name, 0) + value
                else:
                    kept[name] = value

    def finish(self) -> None:
        """Customers created across several chunks are customers since their earliest
        order; then the audit events."""
        created = sorted(customer_id for customer_id, note in self.notes.items()
                         if note.get("created"))
        first_order = (select(func.min(ORDERS.c.ordered_at))
                       .where(ORDERS.c.customer_id == CUSTOMER.c.id).scalar_subquery())
        for batch in batches(created):
            self.session.execute(update(CUSTOMER).where(CUSTOMER.c.id.in_(batch))
                                 .values(created_at=first_order))
        trail.record_many(self.session, (
            trail.Event("customer.import", "customer", customer_id,
                        {"import": self.import_id, **note})
            for customer_id, note in sorted(self.notes.items())),
            actor=self.actor, source="import")
