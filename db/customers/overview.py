"""The home page's short overview of what the database holds.

What each figure means, and where it is read:

- **Customers**: live ones (:func:`db.models.live`: not soft-deleted, erased or merged).
- **Orders**: every order of zero or more, refunds apart, of every customer (soft-deleted and
  erased ones included: their orders happened), as the KPI page counts them. Summed from
  ``daily_totals``, which the write path keeps for the KPI page and which counts exactly
  that set, so home and KPI page cannot disagree.
- **Interactions**: every logged contact, of every customer, summed from
  ``daily_interactions`` (kept likewise).
- **Last order** and **last customer record change**: the newest ``ordered_at`` (an index
  holds it) and ``updated_at``.

Counting ten million orders took seconds on every empty cache (a restart, any write); the
daily tables are a few thousand rows per year. Live customers and the newest change are still
read from the customer rows, in one pass (no kept table counts live customers without
orders).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from db.core.access import Actor, Capability, require
from db.core.engine import read_session
from db.core.sql import table_of
from db.derived.models import DailyInteractions, DailyTotals
from db.models import Customer, Order, live


@dataclass(frozen=True)
class Overview:
    customers: int
    orders: int
    interactions: int
    last_order_at: datetime | None
    last_customer_change_at: datetime | None


def database_overview(actor: Actor, *, engine: Engine | None = None) -> Overview:
    """Counts and the latest activity (see the module's docstring for what each means): no
    personal data, but still only for a role that may look customers up (every role today).
    """
    require(actor, Capability.LOOKUP)
    customers = table_of(Customer).c
    totals, contacts = table_of(DailyTotals).c, table_of(DailyInteractions).c
    with read_session(engine) as session:
        connection = session.connection()
        # One pass over the customer rows for both of their figures.
        live_customers, last_change = connection.execute(select(
            func.count().filter(live()), func.max(customers.updated_at))).one()
        orders, interactions, last_order_at = connection.execute(select(
            select(func.coalesce(func.sum(totals.orders), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(contacts.interactions), 0)).scalar_subquery(),
            select(func.max(table_of(Order).c.ordered_at)).scalar_subquery())).one()
    return Overview(customers=int(live_customers), orders=int(orders),
                    interactions=int(interactions), last_order_at=last_order_at,
                    last_customer_change_at=last_change)
