"""The pandas side of the KPI tests: the shop's rows filtered and counted by hand, written
apart from :mod:`db.kpi` so that each figure is checked against an independent computation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from db.kpi.customers import Customers
from db.kpi.filters import Filters
from db.kpi.periods import Period
from db.kpi.sales import Sales

COUNTRIES = ("DE", "AT", "FR")
CATEGORIES = ("books", "wine", "garden")
DAY0 = date(2026, 1, 1)
PERIODS = [Period(date(2026, 1, 31), date(2026, 3, 1)),  # days 30-59: the shop's edges
           Period(date(2026, 2, 1), date(2026, 3, 2)),  # days 31-60
           Period(date(2026, 3, 2), date(2026, 3, 2)),  # day 60 alone
           Period(date(2025, 6, 1), date(2025, 6, 30))]  # before any order
FILTERS = [Filters(), Filters(countries=("DE",)), Filters(channels=("web", "app")),
           Filters(categories=("books",)), Filters(countries=("AT", "FR"), channels=("web",),
                                                   categories=("wine", "garden"))]


def utc_at(day: int, seconds: int = 43_200) -> datetime:
    """``seconds`` into the ``day``-th day after DAY0 (UTC)."""
    return datetime.combine(DAY0, datetime.min.time(), tzinfo=UTC) + timedelta(
        days=day, seconds=seconds)


def in_days(frame: pd.DataFrame, period: Period) -> pd.Series:
    day = frame["at"].map(lambda moment: moment.astimezone(UTC).date())
    return (day >= period.first) & (day <= period.last)


def chosen_customers(frame: pd.DataFrame, shop: dict, filters: Filters,
                     members: set[int] | None = None) -> pd.Series:
    keep = pd.Series(True, index=frame.index)
    if filters.countries:
        keep &= frame["customer_id"].map(shop["country"]).isin(filters.countries)
    if members is not None:
        keep &= frame["customer_id"].isin(members)
    return keep


def reference_sales(shop: dict, period: Period, filters: Filters,
                    members: set[int] | None = None) -> Sales:
    orders = shop["orders"].sort_values(["at", "id"])
    first = ~orders.duplicated("customer_id")
    keep = in_days(orders, period) & chosen_customers(orders, shop, filters, members)
    if filters.channels:
        keep &= orders["channel"].isin(filters.channels)
    if filters.categories:
        keep &= orders["category"].isin(filters.categories)
    chosen = orders[keep]
    cents = sum(int(amount * 100) for amount in chosen["amount"])
    return Sales(revenue_cents=cents, orders=int((chosen["amount"] >= 0).sum()),
                 refunds=int((chosen["amount"] < 0).sum()),
                 new_customers=int(first[keep].sum()))


def reference_customers(shop: dict, period: Period, filters: Filters,
                        members: set[int] | None = None) -> Customers:
    orders = shop["orders"]
    first_day = orders.groupby("customer_id")["at"].min().map(
        lambda moment: moment.astimezone(UTC).date())
    bought = orders[(orders["amount"] >= 0)
                    & chosen_customers(orders, shop, filters, members)]

    def counted(days: Period) -> pd.Series:
        return bought[in_days(bought, days)]["customer_id"].value_counts()

    now, before = counted(period), counted(period.previous())
    returning = sum(1 for customer in now.index if first_day[customer] < period.first)
    return Customers(active=len(now), returning=returning,
                     repeaters=int((now >= 2).sum()), previous_active=len(before),
                     retained=len(set(now.index) & set(before.index)))
