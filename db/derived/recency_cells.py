"""``customer_recency``: live customers with orders, counted per day of their last order ×
orders ever (capped at :data:`CAP`) × country, with their spend to date.

The RFM grid scores customers by days since their last order and by orders ever, and the
lifetime value averages their spend; over a million customers that scan takes seconds.
Grouped like this, the same answers come from a few hundred thousand rows, for any
"today". :func:`recency_cells` is what some customers contribute (read from
``customer_summary``, which a write refreshes first); the table is a
:class:`~db.derived.summed_cells.SummedCells` kept by :func:`db.derived.kpi_tables.kept_current`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, Select, case, cast, func, select
from sqlmodel import col

from db.core.sql import UtcDay, table_of
from db.derived.models import CustomerRecency, CustomerSummary
from db.derived.summed_cells import Customers, SummedCells
from db.models import Customer, live

RECENCY = table_of(CustomerRecency)
CAP = 10  # "10 orders" stands for 10 or more: the top frequency score starts there


def recency_cells(customer_ids: Customers = None) -> Select:
    """(last order day, orders capped, country, customers, spend) of some or all customers."""
    customer = col(CustomerSummary.customer_id)
    day = UtcDay(col(CustomerSummary.last_order_at))
    count = col(CustomerSummary.order_count)
    orders = case((count >= CAP, CAP), else_=count)  # LEAST() is not SQLite's
    country = col(Customer.country)
    query = (select(day.label("last_order_day"), orders.label("orders"), country,
                    cast(func.count(), Integer).label("customers"),
                    cast(func.sum(col(CustomerSummary.spend_cents)), BigInteger)
                    .label("spend_cents"))
             .join(Customer, col(Customer.id) == customer)
             .where(count > 0, live())
             .group_by(day, orders, country))
    if customer_ids is not None:
        query = query.where(customer.in_(customer_ids))
    return query


RECENCY_CELLS = SummedCells(table=RECENCY, key=("last_order_day", "orders", "country"),
                            measures=("customers", "spend_cents"), present=("customers",),
                            rows=recency_cells)
