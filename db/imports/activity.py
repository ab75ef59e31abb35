"""Order and contact files: each row added, already on file, or rejected.

Both find the row's customer by customer number or e-mail (:class:`CustomerFinder`); an
order file may create the customers it does not find, keyed by their number, with the
country the file or the person importing gives.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from db.core.sql import table_of
from db.customers import suppression
from db.imports.customers import CUSTOMER_COLUMNS
from db.imports.lookup import Ids, Outcome, Plan, batches, keys, stored
from db.imports.rows import (
    InteractionRow,
    Options,
    OrderRow,
    RowProblem,
    content_ref,
    interaction_row,
    order_row,
)
from db.models import Interaction, Order, is_live

ORDERS = table_of(Order)
CONTACTS = table_of(Interaction)


class CustomerFinder:
    """Finds the customer an order or contact belongs to, by number or e-mail, remembering
    what it found (and, for orders, the customers it creates) across chunks."""

    def __init__(self, session: Session, ids: Ids) -> None:
        self.session, self.ids = session, ids
        # The id, or for a stored customer who is not live why a row naming them is refused.
        self.known: dict[tuple[str, str], int | str] = {}
        self.created: set[int] = set()

    def load(self, keys: list[tuple[str | None, str | None]]) -> None:
        refs = {ref for ref, _ in keys if ref and ("ref", ref) not in self.known}
        emails = {email for _, email in keys if email and ("email", email) not in self.known}
        for column, kind, wanted in (("external_ref", "ref", refs), ("email", "email", emails)):
            for value, row in stored(self.session, column, wanted).items():
                self.known[(kind, value)] = row.id if is_live(row) else row.refusal()

    def find(self, ref: str | None, email: str | None) -> int | None:
        """The customer's id; None when unknown; RowProblem when deleted or merged."""
        for key in keys(ref, email):
            if key in self.known:
                found = self.known[key]
                if isinstance(found, str):
                    raise RowProblem(found)
                return found
        return None

    def create(self, plan: Plan, row: OrderRow, options: Options, now: datetime) -> int:
        country = row.country or options.country
        if country is None:
            raise RowProblem("No customer with this customer number or e-mail; to create "
                             "one, map a country column or choose a country for new "
                             "customers.")
        customer_id = self.ids.take()
        name = f"Customer {row.customer_ref}" if row.customer_ref else (row.email or "")
        plan.customers.append(
            {**dict.fromkeys(CUSTOMER_COLUMNS), "id": customer_id, "first_name": "",
             "last_name": name[:100], "external_ref": row.customer_ref, "email": row.email,
             "country": country, "status": "active", "source": "import",
             "created_at": row.values["ordered_at"], "updated_at": now, "version": 1})
        plan.notes.setdefault(customer_id, {})["created"] = True
        for key in keys(row.customer_ref, row.email):
            self.known[key] = customer_id
        self.created.add(customer_id)
        return customer_id


class OrderJudge:
    """Orders: added, already there (the same stored reference), or rejected.

    The stored reference is the file's order number; a number on several rows (an invoice's
    lines) becomes ``number``, ``number/2``, ``number/3`` in file order, and a file without
    numbers gets a digest of each row's content (:func:`db.imports.rows.content_ref`). So the
    same file imported again finds every order it holds, and adds nothing.
    """

    def __init__(self, session: Session, options: Options, outcome: Outcome,
                 now: datetime, writing: bool) -> None:
        self.session, self.options, self.outcome, self.now = session, options, outcome, now
        self.finder = CustomerFinder(session, Ids(session, writing))
        self.numbers: dict[str, int] = {}
        self.erased: dict[str, datetime] = {}  # this chunk's suppressed e-mails

    def read(self, cells: dict[str, str], line: int, record: dict[str, str]
             ) -> tuple[OrderRow, dict[str, str]]:
        return order_row(cells, line, self.options, self.now), record

    def _reference(self, row: OrderRow) -> str:
        base = row.order_ref or content_ref(row)
        count = self.numbers.get(base, 0) + 1
        self.numbers[base] = count
        return base if count == 1 else f"{base}/{count}"

    def decide(self, rows: list[tuple[OrderRow, dict[str, str]]]) -> Plan:
        planned = [(row, record, self._reference(row)) for row, record in rows]
        held: set[str] = set()
        for batch in batches([reference for _, _, reference in planned]):
            held.update(self.session.execute(
                select(ORDERS.c.external_ref).where(ORDERS.c.external_ref.in_(batch))).scalars())
        self.finder.load([(row.customer_ref, row.email) for row, _, reference in planned
                          if reference not in held])
        self.erased = suppression.suppressed_since(
            self.session, {row.email for row, _, reference in planned
                           if row.email and reference not in held})
        plan = Plan()
        for row, record, reference in planned:
            if reference in held:
                self.outcome.unchanged += 1
                continue
            try:
                customer_id = self._customer(plan, row)
            except RowProblem as problem:
                self.outcome.reject(row.line, str(problem), record)
                continue
            plan.orders.append({"customer_id": customer_id, "external_ref": reference,
                                **row.values})
            note = plan.notes.setdefault(customer_id, {})
            note["orders"] = note.get("orders", 0) + 1
            self.outcome.new += 1
        _created_at_first_order(plan)
        return plan

    def _customer(self, plan: Plan, row: OrderRow) -> int:
        found = self.finder.find(row.customer_ref, row.email)
        if found is not None:
            return found
        if not self.options.create_customers:
            raise RowProblem("No customer with this customer number or e-mail (choose to "
                             "create customers for unknown ones).")
        if row.email in self.erased:
            raise RowProblem(suppression.REFUSAL.format(since=self.erased[row.email]))
        self.outcome.created += 1
        return self.finder.create(plan, row, self.options, self.now)


def _created_at_first_order(plan: Plan) -> None:
    """A customer this chunk creates is a customer since their earliest order in it."""
    first: dict[int, datetime] = {}
    for order in plan.orders:
        when = first.get(order["customer_id"])
        if when is None or order["ordered_at"] < when:
            first[order["customer_id"]] = order["ordered_at"]
    for customer in plan.customers:
        customer["created_at"] = first.get(customer["id"], customer["created_at"])


class InteractionJudge:
    """Contacts: logged, already on file (same customer, time, kind and subject), or
    rejected. An interaction file never creates customers."""

    def __init__(self, session: Session, options: Options, outcome: Outcome,
                 now: datetime, writing: bool) -> None:
        self.session, self.options, self.outcome, self.now = session, options, outcome, now
        self.finder = CustomerFinder(session, Ids(session, writing))
        self.seen: dict[tuple[int, datetime, str, str], int] = {}

    def read(self, cells: dict[str, str], line: int, record: dict[str, str]
             ) -> tuple[InteractionRow, dict[str, str]]:
        return interaction_row(cells, line, self.options, self.now), record

    def decide(self, rows: list[tuple[InteractionRow, dict[str, str]]]) -> Plan:
        self.finder.load([(row.customer_ref, row.email) for row, _ in rows])
        found = []
        for row, record in rows:
            try:
                customer_id = self.finder.find(row.customer_ref, row.email)
            except RowProblem as problem:
                self.outcome.reject(row.line, str(problem), record)
                continue
            if customer_id is None:
                self.outcome.reject(row.line, "No customer with this customer number or "
                                    "e-mail.", record)
                continue
            found.append((row, record, (customer_id, row.values["at"], row.values["kind"],
                                        row.values["subject"])))
        held = self._held([key for _, _, key in found])
        plan = Plan()
        for row, record, key in found:
            first = self.seen.get(key)
            if first is not None:
                self.outcome.duplicate(f"{key[3]} ({key[1]:%Y-%m-%d %H:%M})", first, row.line)
                self.outcome.reject(row.line, f"The same contact as line {first}.", record)
                continue
            self.seen[key] = row.line
            if key in held:
                self.outcome.unchanged += 1
                continue
            plan.contacts.append({"customer_id": key[0], **row.values})
            note = plan.notes.setdefault(key[0], {})
            note["interactions"] = note.get("interactions", 0) + 1
            self.outcome.new += 1
        return plan

    def _held(self, keys: list[tuple[int, datetime, str, str]]
              ) -> set[tuple[int, datetime, str, str]]:
        if not keys:
            return set()
        held: set[tuple[int, datetime, str, str]] = set()
        earliest, latest = min(key[1] for key in keys), max(key[1] for key in keys)
        for batch in batches(sorted({key[0] for key in keys})):
            held.update((row.customer_id, row.at, row.kind, row.subject)
                        for row in self.session.execute(
                            select(CONTACTS.c.customer_id, CONTACTS.c.at, CONTACTS.c.kind,
                                   CONTACTS.c.subject)
                            .where(CONTACTS.c.customer_id.in_(batch),
                                   CONTACTS.c.at.between(earliest, latest))))
        return held
