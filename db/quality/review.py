"""What the review page shows of the customers in candidate pairs: who each one is, read for
every pair on the page in one query rather than one per customer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select

from db.core.access import Actor, Capability, require
from db.core.engine import read_session
from db.core.sql import table_of
from db.derived.models import CustomerSummary
from db.models import Customer


@dataclass(frozen=True)
class Side:
    """One customer of a pair, as a reviewer tells people apart."""

    id: int
    name: str
    email: str
    phone: str
    postcode: str
    city: str
    birth_date: date | None
    orders: int

    @property
    def label(self) -> str:
        return f"#{self.id} {self.name}"


def sides(actor: Actor, customer_ids: Iterable[int], *,
          engine: Engine | None = None) -> dict[int, Side]:
    """The customers ``customer_ids``, by id (admins and managers, who review pairs)."""
    require(actor, Capability.EDIT_CUSTOMER)
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    c, s = table_of(Customer).c, table_of(CustomerSummary).c
    with read_session(engine) as session:
        rows = session.execute(
            select(c.id, c.first_name, c.last_name, c.email, c.phone, c.postcode, c.city,
                   c.birth_date, s.order_count)
            .join_from(table_of(Customer), table_of(CustomerSummary), s.customer_id == c.id,
                       isouter=True)
            .where(c.id.in_(ids))).all()
    return {row.id: Side(row.id, f"{row.first_name} {row.last_name}", row.email or "",
                         row.phone or "", row.postcode or "", row.city or "", row.birth_date,
                         row.order_count or 0) for row in rows}
