"""``customer_months``: each customer's spend before refunds per UTC calendar month.

The KPI page lists a period's top customers by revenue. Summing a month of a million
customers' orders (440,000 rows) per customer is too slow for a page view, and ordering
customers by their spend to date still meant summing about 19,000 of them for a 30-day
period. No customer's revenue in a period can exceed their spend in the months the period
touches, so :func:`db.kpi.top.top_customers` reads customers in descending order of that
spend and sums only the few it has to. :func:`month_cells` is what some customers
contribute; the table is a :class:`~db.derived.summed_cells.SummedCells` kept by
:func:`db.derived.kpi_tables.kept_current` and rebuilt by ``python -m db.derived rebuild``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Select, cast, func, select

from db.core.sql import UtcMonth, cents, table_of
from db.derived.models import CustomerMonth
from db.derived.summed_cells import Customers, SummedCells
from db.models import Order

MONTHS = table_of(CustomerMonth)


def month_cells(customer_ids: Customers = None) -> Select:
    """(customer, month, spend before refunds) of some or all customers' orders, for the
    months with any (amounts have whole cents, so every order above zero adds some)."""
    orders = table_of(Order).c
    customer, amount = orders.customer_id, orders.amount
    month = UtcMonth(orders.ordered_at)
    gross = cast(func.sum(cents(amount)), BigInteger)
    query = (select(customer, month.label("month"), gross.label("gross_cents"))
             .where(amount > 0)
             .group_by(customer, month))
    if customer_ids is not None:
        query = query.where(customer.in_(customer_ids))
    return query


MONTH_CELLS = SummedCells(table=MONTHS, key=("customer_id", "month"),
                          measures=("gross_cents",), present=("gross_cents",),
                          rows=month_cells)
