"""The few customers with the most revenue in a period, without summing everyone's orders.

Definition: the ``limit`` live customers with the most revenue (above zero) in the period,
ties to the lower id; every filter applies (see :mod:`db.kpi.filters`).

A year of a million customers' orders is four million rows, too many to sum per customer on
every page view. Instead, each customer's revenue in a period is bounded above by a sum of
parts stored in indexed order: their spend before refunds in each month the period touches
(``customer_months``) or, for long periods, their spend to date (``customer_summary``).
:func:`best` reads every part's list from the top, a page at a time, sums the exact revenue
of only the customers it meets, and stops once the last of the best has more than anyone
not met yet could have: the sum of where each list stands (Fagin's threshold algorithm).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, Row, Select, func, select, tuple_

from db.core.access import Actor, Capability, require
from db.core.sql import cents, table_of
from db.derived.models import CustomerSummary
from db.derived.month_cells import MONTHS
from db.derived.summed_cells import count_if
from db.kpi import scope as kpi_scope
from db.kpi.filters import NO_FILTERS, Filters
from db.kpi.periods import Period, months
from db.models import Customer, Order, live

FIRST_PAGE = 200  # rows per list in the first round; each round doubles it
LAST_PAGE = 3_200
# A period touching more months than this is bounded by each customer's spend to date
# instead: one list rather than many (bench/RESULTS.md notes the timings of both).
MONTH_LISTS = 6
CUSTOMERS = table_of(Customer)
SUMMARY = table_of(CustomerSummary)
ORDERS = table_of(Order).c


@dataclass(frozen=True)
class BoundList:
    """Customers with a part of the upper bound: ``query`` selects ``customer`` and
    ``bound`` columns of the customers that may count (filters applied), in no order."""

    query: Select
    customer: ColumnElement[int]
    bound: ColumnElement[int]

    def page(self, connection: Connection, after: tuple[int, int] | None,
             size: int) -> list[Row]:
        """The next ``size`` customers after ``after`` (bound, customer), descending."""
        query = self.query if after is None else self.query.where(
            tuple_(self.bound, self.customer) < after)
        return list(connection.execute(
            query.order_by(self.bound.desc(), self.customer.desc()).limit(size)))


def best(connection: Connection, totals: Select, lists: list[BoundList], limit: int
         ) -> list[Row]:
    """The ``limit`` rows of ``totals`` (per customer: ``customer_id``, ``revenue``, ...;
    grouped over ``orders``) with the most revenue, ties to the lower customer id, for the
    customers the lists hold. A customer's revenue must not exceed the sum of its bounds
    (zero where a list lacks it)."""
    found: list[Row] = []
    met: set[int] = set()
    standing = [0] * len(lists)  # the last bound read per list; 0 once read to its end
    after: list[tuple[int, int] | None] = [None] * len(lists)
    ended = [False] * len(lists)
    size = FIRST_PAGE
    while True:
        fresh: dict[int, None] = {}
        for index, ranked in enumerate(lists):
            if ended[index]:
                continue
            rows = ranked.page(connection, after[index], size)
            for row in rows:
                if row[0] not in met:
                    fresh[row[0]] = None
            ended[index] = len(rows) < size
            standing[index] = 0 if ended[index] else rows[-1][1]
            after[index] = None if ended[index] else (rows[-1][1], rows[-1][0])
        if fresh:
            met.update(fresh)
            found = sorted([*found, *connection.execute(
                totals.where(ORDERS.customer_id.in_(list(fresh))))],
                key=lambda row: (-row.revenue, row.customer_id))[:limit]
        # Anyone not met yet has at most the sum of where the lists stand.
        threshold = sum(standing)
        if threshold == 0 or (len(found) == limit and found[-1].revenue > threshold):
            return found
        size = min(size * 2, LAST_PAGE)


def top_customers(actor: Actor, period: Period, filters: Filters = NO_FILTERS, *,
                  limit: int = 20, engine: Engine | None = None) -> pd.DataFrame:
    """The top customers of ``period`` (see the definition above): ``customer_id``,
    ``first_name``, ``last_name``, ``country``, ``revenue_cents`` and ``orders``."""
    require(actor, Capability.VIEW_KPIS)
    start, end = period.bounds()
    revenue = func.sum(cents(ORDERS.amount))
    in_period = [ORDERS.ordered_at >= start, ORDERS.ordered_at < end]
    if filters.channels:
        in_period.append(ORDERS.channel.in_(filters.channels))
    if filters.categories:
        in_period.append(ORDERS.category.in_(filters.categories))
    totals = (select(ORDERS.customer_id, revenue.label("revenue"),
                     count_if(ORDERS.amount >= 0).label("orders"))
              .where(*in_period).group_by(ORDERS.customer_id).having(revenue > 0))
    who = CUSTOMERS.c
    with kpi_scope.connect(engine) as connection:
        chosen = [live()]
        if filters.countries:
            chosen.append(who.country.in_(filters.countries))
        if filters.segment_id is not None:
            chosen.append(who.id.in_(kpi_scope.members(connection, filters.segment_id)))
        found = best(connection, totals, _bound_lists(period, chosen), limit)
        names = {row.id: row for row in connection.execute(
            select(who.id, who.first_name, who.last_name, who.country)
            .where(who.id.in_([row.customer_id for row in found])))}
    return pd.DataFrame(
        [(row.customer_id, names[row.customer_id].first_name,
          names[row.customer_id].last_name, names[row.customer_id].country,
          int(row.revenue), int(row.orders)) for row in found],
        columns=["customer_id", "first_name", "last_name", "country", "revenue_cents",
                 "orders"])


def _bound_lists(period: Period, chosen: list[ColumnElement[bool]]) -> list[BoundList]:
    """Upper bounds on the period's revenue of the customers ``chosen`` selects: their spend
    in each month the period touches, or (for long periods) their spend to date."""
    touched = months(period.first, period.last)
    if len(touched) <= MONTH_LISTS:
        return [BoundList(select(MONTHS.c.customer_id, MONTHS.c.gross_cents)
                          .join(CUSTOMERS, CUSTOMERS.c.id == MONTHS.c.customer_id)
                          .where(MONTHS.c.month == month, *chosen),
                          MONTHS.c.customer_id, MONTHS.c.gross_cents)
                for month, _ in touched]
    # Only customers whose newest order is not before the period can have any.
    return [BoundList(select(SUMMARY.c.customer_id, SUMMARY.c.gross_cents)
                      .join(CUSTOMERS, CUSTOMERS.c.id == SUMMARY.c.customer_id)
                      .where(SUMMARY.c.gross_cents > 0,
                             SUMMARY.c.last_order_at >= period.bounds()[0], *chosen),
                      SUMMARY.c.customer_id, SUMMARY.c.gross_cents)]
