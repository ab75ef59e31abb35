"""The KPI page's figures: one function per metric, each defined here once.

Periods are whole UTC calendar days, the first and the last included (an order at 23:59:59
UTC on the last day counts). Every figure of a period is compared with the period of equal
length just before it and with the same days a year earlier.

Definitions:

- **Revenue**: the sum of the amounts of the period's orders, refunds (negative amounts)
  included, so it is net revenue.
- **Orders**: orders with an amount of zero or more; refunds are counted apart.
- **Average order value**: revenue ÷ orders; none without orders.
- **New customers**: customers whose first order of all (the earliest; the lower id on a tie)
  falls in the period. With a channel or category filter, whose first order was through that
  channel or in that category.
- **Average customer lifetime value**: all the spend to date of the customers with at least
  one order ÷ how many they are (not limited to the period).
- **NPS**: of the period's survey answers, the share of promoters (9–10) minus the share of
  detractors (0–6), in points from −100 to 100; none without answers.
- **Interactions by kind**: the period's contacts counted per kind.
- **Active customers**: customers with an order (amount zero or more) in the period.
- **Returning-customer share**: of the active customers, those whose first order of all was
  before the period.
- **Repeat-purchase rate**: of the active customers, those with two or more orders in it.
- **Churn rate**: of the customers active in the previous period of equal length, those with
  no order in this one; **retention rate** is the rest, so the two add up to 100 %.
- **Cohort retention**: customers grouped by the calendar month of their first order; for
  each later month, the share of the cohort with an order in it.

Filters: a country is the customer's current country; a channel and a category are the
order's, so they narrow the sales figures but not the customer counts (active, returning,
repeat, churn, cohorts), which count every order; a saved segment is its members now.
Erased and deleted customers' orders still count: the sales happened.

Sales figures are sums over ``daily_sales`` (kept by the write path); with a segment filter
they come from the members' own orders through the same cell query. Customer counts are
unions of the sets in ``daily_customers``, narrowed to a segment's members by intersection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
from pyroaring import BitMap
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    Select,
    func,
    select,
)

from db.access import Actor, Capability, require
from db.daily_customers import TABLE as WHO
from db.daily_sales import SALES, cells
from db.engine import get_engine
from db.models import AuditEvent, Customer, CustomerSummary, Feedback, Interaction
from db.segment_query import years_before
from db.segments import members_of
from db.types import utcnow

C = Customer.__table__.c  # type: ignore[attr-defined]
S = CustomerSummary.__table__.c  # type: ignore[attr-defined]
FEEDBACK = Feedback.__table__  # type: ignore[attr-defined]
INTERACTIONS = Interaction.__table__  # type: ignore[attr-defined]

GRANULARITIES = {"day": "Day", "week": "Week", "month": "Month"}
SALES_MEASURES = ("revenue_cents", "orders", "refunds", "new_customers")
PRESETS = {"last_30": "Last 30 days", "last_90": "Last 90 days",
           "last_365": "Last 365 days", "year_to_date": "Year to date"}


@dataclass(frozen=True)
class Period:
    """Whole UTC days from ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("A period cannot end before it starts.")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def year_earlier(self) -> Period:
        """The same calendar days a year earlier (29 February becomes the 28th)."""
        return Period(years_before(self.first, 1), years_before(self.last, 1))

    def bounds(self) -> tuple[datetime, datetime]:
        """The first moment in the period and the first moment after it."""
        return (datetime.combine(self.first, time(), tzinfo=UTC),
                datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC))


def preset(name: str, today: date) -> Period:
    """One of :data:`PRESETS`, ending ``today``."""
    if name == "year_to_date":
        return Period(date(today.year, 1, 1), today)
    days = {"last_30": 30, "last_90": 90, "last_365": 365}[name]
    return Period(today - timedelta(days=days - 1), today)


@dataclass(frozen=True)
class Filters:
    """What the figures are narrowed to; empty means everything."""

    countries: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    segment_id: int | None = None


@dataclass(frozen=True)
class Sales:
    """A period's order figures; money in cents."""

    revenue_cents: int = 0
    orders: int = 0
    refunds: int = 0
    new_customers: int = 0

    @property
    def average_order_cents(self) -> float | None:
        return self.revenue_cents / self.orders if self.orders else None


@dataclass(frozen=True)
class Engagement:
    """A period's survey answers and contacts."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    interactions: dict[str, int] = field(default_factory=dict)

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        if not self.answers:
            return None
        return 100 * (self.promoters - self.detractors) / self.answers


def data_version(*, engine: Engine | None = None) -> int:
    """A number that grows with every committed write, for keying cached figures.

    Every write service records an audit event, and the audit chain admits one writer at a
    time (a transaction lock on PostgreSQL, the write lock on SQLite), so the newest event's
    id rises in commit order.
    """
    with (engine or get_engine()).connect() as connection:
        return connection.execute(select(func.coalesce(func.max(AuditEvent.id), 0))
                                  ).scalar_one()


def _sales_rows(connection: Connection, filters: Filters, as_of: datetime) -> FromClause:
    """Rows shaped like ``daily_sales``: the table, or the segment members' own cells."""
    if filters.segment_id is None:
        return SALES
    return cells(members_of(connection, filters.segment_id, as_of)).subquery()


def _narrowed(rows: FromClause, filters: Filters) -> list[ColumnElement[bool]]:
    where = []
    for column, values in (("country", filters.countries), ("channel", filters.channels),
                           ("category", filters.categories)):
        if values:
            where.append(rows.c[column].in_(values))
    return where


def sales(actor: Actor, period: Period, filters: Filters = Filters(), *,
          engine: Engine | None = None) -> Sales:
    """Revenue, orders, refunds and new customers of ``period``."""
    require(actor, Capability.VIEW_KPIS)
    with (engine or get_engine()).connect() as connection:
        rows = _sales_rows(connection, filters, utcnow())
        query = select(*(func.coalesce(func.sum(rows.c[name]), 0) for name in
                         ("revenue_cents", "orders", "refunds", "new_customers"))).where(
            rows.c.day.between(period.first, period.last), *_narrowed(rows, filters))
        revenue, orders, refunds, new = connection.execute(query).one()
    return Sales(int(revenue), int(orders), int(refunds), int(new))


def daily(actor: Actor, period: Period, filters: Filters = Filters(), *,
          engine: Engine | None = None) -> pd.DataFrame:
    """The sales measures per day of ``period``, every day present (zeros where none)."""
    require(actor, Capability.VIEW_KPIS)
    with (engine or get_engine()).connect() as connection:
        rows = _sales_rows(connection, filters, utcnow())
        query = (select(rows.c.day, *(func.sum(rows.c[name]).label(name)
                                      for name in SALES_MEASURES))
                 .where(rows.c.day.between(period.first, period.last),
                        *_narrowed(rows, filters))
                 .group_by(rows.c.day))
        found = pd.DataFrame(connection.execute(query).all(),
                             columns=["day", *SALES_MEASURES])
    days = pd.DataFrame({"day": pd.date_range(period.first, period.last, freq="D").date})
    frame = days.merge(found, on="day", how="left").fillna(0)
    return frame.astype({name: "int64" for name in SALES_MEASURES})


def bucketed(days: pd.DataFrame, granularity: str) -> pd.DataFrame:
    """Per-day sales summed into days, weeks (from Monday) or calendar months; each bucket
    is named by its first day (the first bucket may start before the period)."""
    stamps = pd.to_datetime(days["day"])
    if granularity == "week":
        start = stamps - pd.to_timedelta(stamps.dt.day_of_week, unit="D")
    elif granularity == "month":
        start = stamps.dt.to_period("M").dt.to_timestamp()
    elif granularity == "day":
        start = stamps
    else:
        raise ValueError(f"unknown granularity {granularity!r}")
    return (days.assign(bucket=start).groupby("bucket", as_index=False)[list(SALES_MEASURES)]
            .sum())


def _customers(connection: Connection, filters: Filters) -> list[ColumnElement[bool]]:
    """Conditions on ``customer`` for the country and segment filters."""
    where = []
    if filters.countries:
        where.append(C.country.in_(filters.countries))
    if filters.segment_id is not None:
        where.append(C.id.in_(members_of(connection, filters.segment_id, utcnow())))
    return where


def average_lifetime_value_cents(actor: Actor, filters: Filters = Filters(), *,
                                 engine: Engine | None = None) -> float | None:
    """Spend to date per customer with at least one order (channel and category ignored)."""
    require(actor, Capability.VIEW_KPIS)
    with (engine or get_engine()).connect() as connection:
        query: Select = (select(func.sum(S.spend_cents), func.count())
                         .select_from(Customer.__table__.join(  # type: ignore[attr-defined]
                             CustomerSummary.__table__, S.customer_id == C.id))  # type: ignore[attr-defined]
                         .where(S.order_count > 0, *_customers(connection, filters)))
        spend, customers = connection.execute(query).one()
    return int(spend) / customers if customers else None


def engagement(actor: Actor, period: Period, filters: Filters = Filters(), *,
               engine: Engine | None = None) -> Engagement:
    """NPS answers by group and contacts by kind in ``period`` (country and segment apply)."""
    require(actor, Capability.VIEW_KPIS)
    start, end = period.bounds()
    with (engine or get_engine()).connect() as connection:
        who = _customers(connection, filters)
        score = FEEDBACK.c.nps_score
        answers = (select(func.count().filter(score >= 9), func.count().filter(score.between(7, 8)),
                          func.count().filter(score <= 6))
                   .select_from(FEEDBACK.join(Customer.__table__,  # type: ignore[attr-defined]
                                              C.id == FEEDBACK.c.customer_id))
                   .where(FEEDBACK.c.at >= start, FEEDBACK.c.at < end, score.is_not(None), *who))
        promoters, passives, detractors = connection.execute(answers).one()
        kinds = (select(INTERACTIONS.c.kind, func.count())
                 .select_from(INTERACTIONS.join(Customer.__table__,  # type: ignore[attr-defined]
                                                C.id == INTERACTIONS.c.customer_id))
                 .where(INTERACTIONS.c.at >= start, INTERACTIONS.c.at < end, *who)
                 .group_by(INTERACTIONS.c.kind))
        counted = {kind: count for kind, count in connection.execute(kinds)}
    return Engagement(promoters, passives, detractors, counted)


@dataclass(frozen=True)
class Customers:
    """A period's customer counts, and the previous period's actives for churn."""

    active: int = 0
    returning: int = 0
    repeaters: int = 0
    previous_active: int = 0
    retained: int = 0  # active in the previous period and in this one

    @property
    def returning_share(self) -> float | None:
        return self.returning / self.active if self.active else None

    @property
    def repeat_rate(self) -> float | None:
        return self.repeaters / self.active if self.active else None

    @property
    def churn_rate(self) -> float | None:
        if not self.previous_active:
            return None
        return (self.previous_active - self.retained) / self.previous_active

    @property
    def retention_rate(self) -> float | None:
        return self.retained / self.previous_active if self.previous_active else None


class _Who:
    """The ``daily_customers`` sets of some days, narrowed to the filters' customers."""

    def __init__(self, connection: Connection, first: date, last: date,
                 filters: Filters) -> None:
        query = select(WHO).where(WHO.c.day.between(first, last))
        if filters.countries:
            query = query.where(WHO.c.country.in_(filters.countries))
        self.rows = connection.execute(query.order_by(WHO.c.day)).all()
        self.members: BitMap | None = None
        if filters.segment_id is not None:
            ids = connection.execute(members_of(connection, filters.segment_id, utcnow())
                                     ).scalars().all()
            self.members = BitMap(np.asarray(ids, dtype=np.uint32))

    def union(self, kind: str, first: date, last: date) -> BitMap:
        found = BitMap.union(BitMap(), *(BitMap.deserialize(getattr(row, kind))
                                         for row in self.rows if first <= row.day <= last))
        return found & self.members if self.members is not None else found

    def repeaters(self, first: date, last: date) -> BitMap:
        """Customers with two or more orders in the days: on one day, or on two."""
        seen, twice = BitMap(), BitMap()
        for row in self.rows:
            if first <= row.day <= last:
                buyers = BitMap.deserialize(row.buyers)
                twice |= BitMap.deserialize(row.repeaters) | (seen & buyers)
                seen |= buyers
        return twice & self.members if self.members is not None else twice


def customers(actor: Actor, period: Period, filters: Filters = Filters(), *,
              engine: Engine | None = None) -> Customers:
    """Active, returning and repeat customers of ``period``; churn against the previous."""
    require(actor, Capability.VIEW_KPIS)
    before = period.previous()
    with (engine or get_engine()).connect() as connection:
        who = _Who(connection, before.first, period.last, filters)
    active = who.union("buyers", period.first, period.last)
    newcomers = who.union("newcomers", period.first, period.last)
    previous = who.union("buyers", before.first, before.last)
    return Customers(active=len(active), returning=len(active - newcomers),
                     repeaters=len(who.repeaters(period.first, period.last)),
                     previous_active=len(previous), retained=previous.intersection_cardinality(
                         active))


def _months(first: date, last: date) -> list[tuple[date, date]]:
    """The calendar months from ``first``'s to ``last``'s, as (first day, last day)."""
    months, start = [], first.replace(day=1)
    while start <= last:
        following = (start + timedelta(days=32)).replace(day=1)
        months.append((start, following - timedelta(days=1)))
        start = following
    return months


def cohorts(actor: Actor, period: Period, filters: Filters = Filters(), *,
            engine: Engine | None = None) -> pd.DataFrame:
    """For each month of ``period`` with new customers (the cohort), the share of them who
    ordered in each month since, up to the period's end: columns ``cohort`` (first day of
    the month), ``months_since``, ``size``, ``customers`` and ``share``."""
    require(actor, Capability.VIEW_KPIS)
    months = _months(period.first, period.last)
    with (engine or get_engine()).connect() as connection:
        who = _Who(connection, months[0][0], months[-1][1], filters)
    active = [who.union("buyers", first, last) for first, last in months]
    rows = []
    for index, (first, last) in enumerate(months):
        cohort = who.union("newcomers", first, last)
        if not cohort:
            continue
        for since, buyers in enumerate(active[index:]):
            kept = cohort.intersection_cardinality(buyers)
            rows.append((first, since, len(cohort), kept, kept / len(cohort)))
    return pd.DataFrame(rows, columns=["cohort", "months_since", "size", "customers", "share"])
