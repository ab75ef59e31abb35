"""Looking stored customers up for an import, a chunk of keys at a time.

The judges (:mod:`db.imports.customers`, :mod:`db.imports.activity`) match rows to customers
by customer number (``external_ref``) or normalised e-mail; this module reads those customers
in IN lists small enough for every engine, locked on PostgreSQL until the import ends, and
hands out the ids of customers an import creates. It also holds the :class:`Plan` a judge
returns and the protocol of the outcome it counts into.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlmodel import Session

from db.core.sql import table_of
from db.models import Customer

CUSTOMER = table_of(Customer)
_IN_LIST = 900  # values per IN list: under SQLite's old 999-parameter limit
_ID_BLOCK = 1_000


class Outcome(Protocol):
    """What a judge counts into (:class:`db.imports.engine.Outcome`)."""

    new: int
    updated: int
    unchanged: int
    created: int
    consent: int

    def reject(self, line: int, reason: str, cells: dict[str, str]) -> None: ...

    def duplicate(self, key: str, first: int, line: int) -> None: ...


@dataclass
class Plan:
    """One chunk's writes: rows to insert per table (consent rows without their recorder,
    which the writer adds), customer updates (id, new values, and
    the audit's ``[old, new]`` per field), and per customer what the audit should say."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any], dict[str, list[Any]]]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    consent: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[int, dict[str, Any]] = field(default_factory=dict)

    def customer_ids(self) -> list[int]:
        return sorted(self.notes)

    def parts(self, customers: int) -> list[Plan]:
        """The plan split into parts touching at most ``customers`` customers each, so that
        the derived tables can be moved around each part's writes with short id lists."""
        ids = self.customer_ids()
        parts = []
        for start in range(0, len(ids), customers):
            group = set(ids[start:start + customers])
            parts.append(Plan(
                customers=[row for row in self.customers if row["id"] in group],
                updates=[update for update in self.updates if update[0] in group],
                orders=[row for row in self.orders if row["customer_id"] in group],
                contacts=[row for row in self.contacts if row["customer_id"] in group],
                consent=[row for row in self.consent if row["customer_id"] in group],
                notes={key: note for key, note in self.notes.items() if key in group}))
        return parts


def batches(values: list[Any]) -> list[list[Any]]:
    return [values[start:start + _IN_LIST] for start in range(0, len(values), _IN_LIST)]


@dataclass(frozen=True)
class Stored:
    """A stored customer as the judges compare it: every column by name."""

    values: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.values["id"])

    @property
    def deleted_at(self) -> datetime | None:
        return self.values["deleted_at"]

    @property
    def erased_at(self) -> datetime | None:
        return self.values["erased_at"]

    @property
    def merged_into_id(self) -> int | None:
        return self.values["merged_into_id"]

    def refusal(self) -> str:
        """Why a row naming this stored customer, who is not live, is refused."""
        if self.merged_into_id is not None:
            return (f"This is customer #{self.id}, merged into customer "
                    f"#{self.merged_into_id}: use that customer's number or e-mail.")
        return f"This is customer #{self.id}, who was deleted; restore them first."


def stored(session: Session, column: str, keys: set[str]) -> dict[str, Stored]:
    """Stored customers by ``column`` (external_ref or email) among ``keys``, locked on
    PostgreSQL until the import ends (so no edit slips between the decision and the write)."""
    found: dict[str, Stored] = {}
    for batch in batches(sorted(keys)):
        query = select(CUSTOMER).where(CUSTOMER.c[column].in_(batch)).with_for_update()
        for row in session.execute(query):
            found[row._mapping[column]] = Stored(dict(row._mapping))
    return found


def without_keys(session: Session, last_names: set[str]) -> list[Stored]:
    """Stored customers with neither customer number nor e-mail, of these last names: the
    only ones a row without either could be."""
    found = []
    for batch in batches(sorted(last_names)):
        query = select(CUSTOMER).where(CUSTOMER.c.last_name.in_(batch),
                                       CUSTOMER.c.external_ref.is_(None),
                                       CUSTOMER.c.email.is_(None))
        found += [Stored(dict(row._mapping)) for row in session.execute(query)]
    return found


class Ids:
    """Ids for the customers an import creates, taken before they are written so that the
    derived tables can be moved around the write. A check gets negative stand-ins.

    PostgreSQL hands them out from the table's sequence, :data:`_ID_BLOCK` at a time (one
    round trip per new customer cost an import of 50,000 customers ten seconds); SQLite
    counts on from the largest id, which no one else can take while the import holds the
    write lock.
    """

    def __init__(self, session: Session, writing: bool) -> None:
        self.session = session
        self.writing = writing
        self.next: int | None = None
        self.block: list[int] = []

    def take(self) -> int:
        if not self.writing:
            self.next = (self.next or 0) - 1
            return self.next
        if self.session.get_bind().dialect.name == "postgresql":
            if not self.block:
                sequence = func.nextval(func.pg_get_serial_sequence("customer", "id"))
                self.block = list(self.session.execute(
                    select(sequence).select_from(func.generate_series(1, _ID_BLOCK))).scalars())
                self.block.reverse()
            return int(self.block.pop())
        if self.next is None:
            self.next = int(self.session.execute(
                select(func.coalesce(func.max(CUSTOMER.c.id), 0))).scalar_one())
        self.next += 1
        return self.next


def keys(ref: str | None, email: str | None) -> list[tuple[str, str]]:
    """How a customer may be known: by number first, then by e-mail."""
    return [(kind, value) for kind, value in (("ref", ref), ("email", email))
            if value is not None]
