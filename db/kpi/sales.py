"""The KPI page's sales figures, summed from ``daily_sales`` and its roll-ups.

Definitions (over the period's days, see :mod:`db.kpi.periods`; every filter applies, see
:mod:`db.kpi.filters`):

- **Revenue**: the sum of the amounts of the period's orders, refunds (negative amounts)
  included, so it is net revenue.
- **Orders**: orders with an amount of zero or more; refunds are counted apart.
- **Average order value**: revenue ÷ orders; none without orders.
- **New customers**: customers whose first order of all (the earliest; the lower id on a tie)
  falls in the period. With a channel or category filter, whose first order was through that
  channel or in that category.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd
from sqlalchemy import Connection, Engine, FromClause, func, select

from db.core.access import Actor, Capability, require
from db.derived.sales_cells import SALES_CELLS, sales_table
from db.kpi import scope as kpi_scope
from db.kpi.filters import NO_FILTERS, Filters, cells, narrowed
from db.kpi.periods import Period


@dataclass(frozen=True)
class Sales:
    """A period's order figures, in the order of :data:`SALES_MEASURES`; money in cents."""

    revenue_cents: int = 0
    orders: int = 0
    refunds: int = 0
    new_customers: int = 0

    @property
    def average_order_cents(self) -> float | None:
        return self.revenue_cents / self.orders if self.orders else None


# The columns of the sales tables that the figures sum, named as Sales names them.
SALES_MEASURES = tuple(field.name for field in fields(Sales))
# What a period's sales are split by on the page's bars.
BREAKDOWNS = {"category": "Category", "channel": "Channel", "country": "Country"}
_BROKEN_DOWN = SALES_MEASURES[:3]  # revenue, orders and refunds: new customers do not split


def _sales_rows(connection: Connection, filters: Filters, period: Period,
                by: str | None = None) -> FromClause:
    """The smallest sales table with the columns the filters and ``by`` need; for a
    segment, its members' rows of the finest one over ``period`` (and maybe other days:
    every figure keeps to its days)."""
    if filters.segment_id is not None:
        return cells(connection, SALES_CELLS, filters, period)
    columns = {name for name, wanted in (("channel", filters.channels),
                                         ("category", filters.categories)) if wanted}
    if by is not None:
        columns.add(by)
    return sales_table(columns).table


def sales(actor: Actor, period: Period, filters: Filters = NO_FILTERS, *,
          engine: Engine | None = None) -> Sales:
    """Revenue, orders, refunds and new customers of ``period``."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        rows = _sales_rows(connection, filters, period)
        query = select(*(func.coalesce(func.sum(rows.c[name]), 0) for name in SALES_MEASURES)
                       ).where(rows.c.day.between(period.first, period.last),
                               *narrowed(rows, filters))
        totals = connection.execute(query).one()
    return Sales(*(int(total) for total in totals))


def totals(days: pd.DataFrame) -> Sales:
    """The sums of :func:`daily`'s rows."""
    return Sales(*(int(days[name].sum()) for name in SALES_MEASURES))


def daily(actor: Actor, period: Period, filters: Filters = NO_FILTERS, *,
          engine: Engine | None = None) -> pd.DataFrame:
    """The sales measures per day of ``period``, every day present (zeros where none)."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        rows = _sales_rows(connection, filters, period)
        query = (select(rows.c.day, *(func.sum(rows.c[name]).label(name)
                                      for name in SALES_MEASURES))
                 .where(rows.c.day.between(period.first, period.last),
                        *narrowed(rows, filters))
                 .group_by(rows.c.day))
        found = pd.DataFrame(connection.execute(query).all(),
                             columns=["day", *SALES_MEASURES])
    days = pd.DataFrame({"day": pd.date_range(period.first, period.last, freq="D").date})
    frame = days.merge(found, on="day", how="left").fillna(0)
    return frame.astype(dict.fromkeys(SALES_MEASURES, "int64"))


def breakdown(actor: Actor, period: Period, by: str, filters: Filters = NO_FILTERS, *,
              engine: Engine | None = None) -> pd.DataFrame:
    """Revenue, orders and refunds of ``period`` per category, channel or country (one of
    :data:`BREAKDOWNS`), largest revenue first."""
    require(actor, Capability.VIEW_KPIS)
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}")
    with kpi_scope.connect(engine) as connection:
        rows = _sales_rows(connection, filters, period, by)
        summed = [func.sum(rows.c[name]).label(name) for name in _BROKEN_DOWN]
        query = (select(rows.c[by].label("group"), *summed)
                 .where(rows.c.day.between(period.first, period.last),
                        *narrowed(rows, filters))
                 .group_by(rows.c[by]).order_by(summed[0].desc(), rows.c[by]))
        frame = pd.DataFrame(connection.execute(query).all(), columns=["group", *_BROKEN_DOWN])
    return frame.astype(dict.fromkeys(_BROKEN_DOWN, "int64"))

