"""``daily_sales``: orders summed per UTC day × customer country × channel × category.

The KPI page sums revenue, orders and new customers over periods of up to years; summing ten
million orders for that takes seconds, the daily table milliseconds. :func:`cells` is what
some customers' orders contribute; the table is kept with it as a
:class:`~db.derived.summed_cells.SummedCells` through
:func:`db.derived.kpi_tables.kept_current` (a new order, a refund, a change of country) and
rebuilt by ``python -m db.derived rebuild``.
Three roll-ups of it (per day and country; and by category, or by channel) answer the
page's usual questions from 3,600 to 26,000 rows a year instead of 130,000.

Days are UTC calendar days; the stored timestamps are UTC on both engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    Subquery,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlmodel import SQLModel

from db.core.sql import UtcDay, cents, table_of
from db.derived.models import DailyCategories, DailyChannels, DailySales, DailyTotals
from db.derived.summed_cells import Customers, SummedCells, count_if, owners
from db.models import (
    Customer,
    Order,
)

SALES = table_of(DailySales)
KEY = ("day", "country", "channel", "category")
MEASURES = ("orders", "refunds", "revenue_cents", "new_customers")
_ORDERS_TABLE = table_of(Order)
_ORDERS = _ORDERS_TABLE.c
_CUSTOMERS = table_of(Customer)


def cells(customer_ids: Customers = None) -> Select:
    """The daily_sales rows (key, then measures) that the orders of some or all customers
    (a list of ids or a query of them) make up. A customer's first order is the earliest,
    the lower id on a tie."""
    ranked = select(
        _ORDERS.customer_id, _ORDERS.ordered_at, _ORDERS.amount, _ORDERS.channel,
        _ORDERS.category,
        func.row_number().over(partition_by=_ORDERS.customer_id,
                               order_by=(_ORDERS.ordered_at, _ORDERS.id)).label("nth"))
    if customer_ids is not None:
        ranked = ranked.where(_ORDERS.customer_id.in_(customer_ids))
    return _summed(ranked.subquery())


def cells_between(people: FromClause, spans: Sequence[tuple[datetime, datetime]]) -> Select:
    """The rows of :func:`cells` for ``people`` whose days lie in ``spans`` (each a start and
    an end bound, UTC, end excluded), without the rest of their history: the KPI page with a
    segment filter sums only the periods it shows.

    ``people`` holds the chosen customers' ``customer_id``, ``country`` and
    ``first_order_at`` (from the customer summary): the orders take their country from it
    (see :func:`~db.derived.summed_cells.owners`). New customers are counted apart, from
    the people whose first order lies in the spans: one index seek each finds that order
    (ranking every order they placed took seconds for a large segment; testing each order
    of the days against every first, a third of the time)."""
    def within(moment: ColumnElement[datetime]) -> ColumnElement[bool]:
        return or_(*(and_(moment >= start, moment < end) for start, end in spans))

    owner = owners(_ORDERS.customer_id, people)
    sold = (select(_ORDERS.ordered_at, owner.country, _ORDERS.channel, _ORDERS.category,
                   _ORDERS.amount)
            .join_from(_ORDERS_TABLE, owner.table, owner.on)
            .where(*owner.where, within(_ORDERS.ordered_at)).subquery())
    sold_day = UtcDay(sold.c.ordered_at)
    sales = (select(sold_day.label("day"), sold.c.country, sold.c.channel, sold.c.category,
                    count_if(sold.c.amount >= 0).label("orders"),
                    count_if(sold.c.amount < 0).label("refunds"),
                    func.sum(cents(sold.c.amount)).label("revenue_cents"),
                    literal(0).label("new_customers"))
             .group_by(sold_day, sold.c.country, sold.c.channel, sold.c.category))
    earlier = _ORDERS_TABLE.alias("earlier")
    first_id = (select(earlier.c.id).where(earlier.c.customer_id == people.c.customer_id)
                .order_by(earlier.c.ordered_at, earlier.c.id).limit(1)
                .correlate(people).scalar_subquery())
    newcomers = (select(people.c.country, first_id.label("order_id"))
                 .where(within(people.c.first_order_at)).subquery())
    first = _ORDERS_TABLE.alias("first")
    first_day = UtcDay(first.c.ordered_at)
    new = (select(first_day.label("day"), newcomers.c.country, first.c.channel,
                  first.c.category, literal(0).label("orders"), literal(0).label("refunds"),
                  literal(0).label("revenue_cents"), func.count().label("new_customers"))
           .join_from(newcomers, first, first.c.id == newcomers.c.order_id)
           .group_by(first_day, newcomers.c.country, first.c.channel, first.c.category))
    both = union_all(sales, new).subquery()
    return (select(*(both.c[name] for name in KEY),
                   *(cast(func.sum(both.c[name]), SALES.c[name].type).label(name)
                     for name in MEASURES))
            .group_by(*(both.c[name] for name in KEY)))


def _summed(orders: Subquery) -> Select:
    """Orders (customer, moment, amount, channel, category and ``nth``, 1 for a customer's
    first) summed into daily_sales rows."""
    day = UtcDay(orders.c.ordered_at)
    country = _CUSTOMERS.c.country
    return (
        select(day.label("day"), country, orders.c.channel, orders.c.category,
               cast(count_if(orders.c.amount >= 0), Integer).label("orders"),
               cast(count_if(orders.c.amount < 0), Integer).label("refunds"),
               cast(func.sum(cents(orders.c.amount)), BigInteger).label("revenue_cents"),
               cast(count_if(orders.c.nth == 1), Integer).label("new_customers"))
        .join(_CUSTOMERS, _CUSTOMERS.c.id == orders.c.customer_id)
        .group_by(day, country, orders.c.channel, orders.c.category)
    )


SALES_CELLS = SummedCells(table=SALES, key=KEY, measures=MEASURES,
                          present=("orders", "refunds"), rows=cells)


def _rollup(model: type[SQLModel], key: tuple[str, ...]) -> SummedCells:
    """``daily_sales`` summed down to ``key``: a write moves the projection of the customers'
    cells, and a rebuild sums the (already rebuilt) ``daily_sales`` table."""
    table = table_of(model)

    def rows(customers: Customers) -> Select:
        source = SALES if customers is None else cells(customers).subquery()
        return (select(*(source.c[name] for name in key),
                       *(cast(func.sum(source.c[name]), table.c[name].type).label(name)
                         for name in MEASURES))
                .group_by(*(source.c[name] for name in key)))

    return SummedCells(table=table, key=key, measures=MEASURES,
                       present=("orders", "refunds"), rows=rows)


# Smaller tables for the common questions, in the order :func:`sales_table` tries them.
TOTALS_CELLS = _rollup(DailyTotals, ("day", "country"))
CATEGORY_CELLS = _rollup(DailyCategories, ("day", "country", "category"))
CHANNEL_CELLS = _rollup(DailyChannels, ("day", "country", "channel"))
ROLLUPS = (TOTALS_CELLS, CATEGORY_CELLS, CHANNEL_CELLS)


def sales_table(columns: set[str]) -> SummedCells:
    """The smallest of the sales tables that has ``columns`` (day and country: all)."""
    for table in (*ROLLUPS, SALES_CELLS):
        if columns <= set(table.key):
            return table
    raise ValueError(f"no sales table has {sorted(columns)}")
