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
- **Average customer lifetime value**: all the spend to date of the live customers with at
  least one order ÷ how many they are (not limited to the period).
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
  each later month, the share of the cohort with an order in it. A month that is not over
  yet has no share (a day-old month would read as everyone gone).
- **Partial bucket**: a day, week or month of a time series that the period cuts (it starts
  after the bucket's first day or ends before its last) or that holds today, which is not
  over; its sums cover fewer days than a whole bucket's, so charts mark it.
- **RFM**: every live customer with an order, scored today (whatever the period) by recency
  (days since the last order: 5 = up to 30, 4 = up to 90, 3 = up to 180, 2 = up to 365,
  1 = longer) and frequency (orders ever: 5 = 10 or more, 4 = 5-9, 3 = 3-4, 2 = 2, 1 = 1),
  with their spend as the monetary part; :data:`RFM_GROUPS` names the cells.

Filters: a country is the customer's current country; a channel and a category are the
order's, so they narrow the sales figures but not the customer counts (active, returning,
repeat, churn, cohorts), which count every order; a saved segment is its members now.
Erased and deleted customers' orders still count: the sales happened.

Sales, contacts, answers and the RFM grid are sums over the tables of :mod:`db.kpi.tables` (kept by
the write path); with a segment filter they come from the members' own rows through the
query that keeps each table. Customer counts are
unions of the sets in ``daily_customers``, narrowed to a segment's members by intersection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    case,
    func,
    select,
)

from db import exports
from db.core.access import Actor, Capability, require
from db.core.engine import get_engine
from db.core.sql import cents, years_before
from db.core.types import utcnow
from db.customers.predicates import live
from db.derived.models import CustomerSummary
from db.kpi import scope as kpi_scope
from db.kpi import top as top_search
from db.kpi.buyer_cells import WEEKLY
from db.kpi.buyer_sets import WhoOrdered
from db.kpi.engagement_cells import INTERACTION_CELLS, NPS_CELLS, NPS_GROUPS
from db.kpi.month_cells import MONTHS
from db.kpi.recency_cells import RECENCY_CELLS
from db.kpi.sales_cells import SALES_CELLS, sales_table
from db.kpi.summed_cells import SummedCells
from db.kpi.top import BoundList
from db.models import AuditEvent, Customer, Order

GRANULARITIES = {"day": "Day", "week": "Week", "month": "Month"}
SALES_MEASURES = ("revenue_cents", "orders", "refunds", "new_customers")
CUSTOMER = Customer.__table__.c  # type: ignore[attr-defined]
SUMMARY = CustomerSummary.__table__  # type: ignore[attr-defined]
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
    with kpi_scope.connect(engine) as connection:
        return connection.execute(select(func.coalesce(func.max(AuditEvent.id), 0))
                                  ).scalar_one()


def _cells(connection: Connection, table: SummedCells, filters: Filters) -> FromClause:
    """A summed table's rows, or with a segment filter the same rows computed for the
    segment's members only (by the query that keeps the table; see :mod:`db.kpi.scope`)."""
    if filters.segment_id is None:
        return table.table
    return kpi_scope.cells(connection, table, filters.segment_id)


def _sales_rows(connection: Connection, filters: Filters, by: str | None = None) -> FromClause:
    """The smallest sales table with the columns the filters and ``by`` need; for a
    segment, its members' rows of the finest one (every figure sums them)."""
    if filters.segment_id is not None:
        return _cells(connection, SALES_CELLS, filters)
    columns = {name for name, wanted in (("channel", filters.channels),
                                         ("category", filters.categories)) if wanted}
    if by is not None:
        columns.add(by)
    return sales_table(columns).table


def _narrowed(rows: FromClause, filters: Filters) -> list[ColumnElement[bool]]:
    where = []
    for column, values in (("country", filters.countries), ("channel", filters.channels),
                           ("category", filters.categories)):
        if values and column in rows.c:  # contacts and answers have no channel
            where.append(rows.c[column].in_(values))
    return where


def sales(actor: Actor, period: Period, filters: Filters = Filters(), *,
          engine: Engine | None = None) -> Sales:
    """Revenue, orders, refunds and new customers of ``period``."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        rows = _sales_rows(connection, filters)
        query = select(*(func.coalesce(func.sum(rows.c[name]), 0) for name in
                         ("revenue_cents", "orders", "refunds", "new_customers"))).where(
            rows.c.day.between(period.first, period.last), *_narrowed(rows, filters))
        revenue, orders, refunds, new = connection.execute(query).one()
    return Sales(int(revenue), int(orders), int(refunds), int(new))


def daily(actor: Actor, period: Period, filters: Filters = Filters(), *,
          engine: Engine | None = None) -> pd.DataFrame:
    """The sales measures per day of ``period``, every day present (zeros where none)."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        rows = _sales_rows(connection, filters)
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


def bucket_spans(period: Period, granularity: str, *, today: date) -> pd.DataFrame:
    """Each bucket of ``period`` (named by its first day, as :func:`bucketed` names it):
    ``first`` and ``last``, the days of the period in it, and ``partial`` when those are
    fewer than the whole bucket or include ``today`` (see the definitions above)."""
    rows = []
    for name, first, last in _buckets(period, granularity):
        whole_last = {"day": name, "week": name + timedelta(days=6),
                      "month": _months(name, name)[0][1]}[granularity]
        rows.append((pd.Timestamp(name), first, last,
                     first != name or last != whole_last or last >= today))
    return pd.DataFrame(rows, columns=["bucket", "first", "last", "partial"])


def bucketed(days: pd.DataFrame, granularity: str) -> pd.DataFrame:
    """Per-day counts (every column but ``day``) summed into days, weeks (from Monday) or
    calendar months; each bucket is named by its first day (the first bucket may start
    before the period)."""
    stamps = pd.to_datetime(days["day"])
    if granularity == "week":
        start = stamps - pd.to_timedelta(stamps.dt.day_of_week, unit="D")
    elif granularity == "month":
        start = stamps.dt.to_period("M").dt.to_timestamp()
    elif granularity == "day":
        start = stamps
    else:
        raise ValueError(f"unknown granularity {granularity!r}")
    measures = [column for column in days.columns if column != "day"]
    return days.assign(bucket=start).groupby("bucket", as_index=False)[measures].sum()


BREAKDOWNS = {"category": "Category", "channel": "Channel", "country": "Country"}


def breakdown(actor: Actor, period: Period, by: str, filters: Filters = Filters(), *,
              engine: Engine | None = None) -> pd.DataFrame:
    """Revenue, orders and refunds of ``period`` per category, channel or country (one of
    :data:`BREAKDOWNS`), largest revenue first."""
    require(actor, Capability.VIEW_KPIS)
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}")
    with kpi_scope.connect(engine) as connection:
        rows = _sales_rows(connection, filters, by)
        totals = [func.sum(rows.c[name]).label(name) for name in SALES_MEASURES[:3]]
        query = (select(rows.c[by].label("group"), *totals)
                 .where(rows.c.day.between(period.first, period.last),
                        *_narrowed(rows, filters))
                 .group_by(rows.c[by]).order_by(totals[0].desc(), rows.c[by]))
        frame = pd.DataFrame(connection.execute(query).all(),
                             columns=["group", *SALES_MEASURES[:3]])
    return frame.astype({name: "int64" for name in SALES_MEASURES[:3]})


def engagement(actor: Actor, period: Period, filters: Filters = Filters(), *,
               engine: Engine | None = None) -> Engagement:
    """NPS answers by group and contacts by kind in ``period`` (country and segment apply)."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        answers = _cells(connection, NPS_CELLS, filters)
        in_period = answers.c.day.between(period.first, period.last)
        totals = connection.execute(select(*(func.coalesce(func.sum(answers.c[name]), 0)
                                             for name in NPS_GROUPS))
                                    .where(in_period, *_narrowed(answers, filters))).one()
        contacts = _cells(connection, INTERACTION_CELLS, filters)
        kinds = connection.execute(
            select(contacts.c.kind, func.sum(contacts.c.interactions))
            .where(contacts.c.day.between(period.first, period.last),
                   *_narrowed(contacts, filters))
            .group_by(contacts.c.kind)).all()
    return Engagement(*(int(total) for total in totals),
                      interactions={kind: int(count) for kind, count in kinds})


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


def _counts(who: WhoOrdered, period: Period) -> Customers:
    before = period.previous()
    active = who.union("buyers", period.first, period.last)
    newcomers = who.union("newcomers", period.first, period.last)
    previous = who.union("buyers", before.first, before.last)
    return Customers(active=len(active), returning=len(active - newcomers),
                     repeaters=len(who.repeaters(period.first, period.last)),
                     previous_active=len(previous),
                     retained=previous.intersection_cardinality(active))


def _by_country(who: WhoOrdered, period: Period) -> pd.DataFrame:
    counts = [(country, len(buyers)) for country, buyers
              in who.buyers_by_country(period.first, period.last).items()]
    frame = pd.DataFrame(counts, columns=["country", "customers"])
    return frame[frame["customers"] > 0].sort_values(
        ["customers", "country"], ascending=[False, True], ignore_index=True)


def _per_bucket(who: WhoOrdered, buckets: list[tuple[date, date, date]],
                counted: dict[date, tuple[int, int]]) -> pd.DataFrame:
    """Active customers per bucket, split into new (first order of all in the bucket) and
    returning; ``counted`` gives (active, new) of whole weeks by their Monday."""
    rows = []
    for name, first, last in buckets:
        if name in counted:
            active_count, new = counted[name]
        else:
            active = who.union("buyers", first, last)
            active_count = len(active)
            new = active.intersection_cardinality(who.union("newcomers", first, last))
        rows.append((pd.Timestamp(name), active_count, new, active_count - new))
    return pd.DataFrame(rows, columns=["bucket", "active", "new", "returning"])


def _week_counts(connection: Connection, buckets: list[tuple[date, date, date]],
                 filters: Filters) -> dict[date, tuple[int, int]]:
    """(active, new) of the buckets that are whole weeks, from ``weekly_customers``: a
    customer has one country, so the countries' counts add up. None for a segment, whose
    members need the sets."""
    weeks = [name for name, first, last in buckets
             if first == name and last == name + timedelta(days=6)]
    if filters.segment_id is not None or not weeks:
        return {}
    query = (select(WEEKLY.c.week, func.sum(WEEKLY.c.active), func.sum(WEEKLY.c.new))
             .where(WEEKLY.c.week.between(weeks[0], weeks[-1])).group_by(WEEKLY.c.week))
    if filters.countries:
        query = query.where(WEEKLY.c.country.in_(filters.countries))
    found = {week: (int(active), int(new)) for week, active, new in connection.execute(query)}
    return {week: found.get(week, (0, 0)) for week in weeks}


def _cohorts(who: WhoOrdered, months: list[tuple[date, date]], today: date) -> pd.DataFrame:
    active = [who.union("buyers", first, last) for first, last in months]
    rows = []
    for index, (first, last) in enumerate(months):
        cohort = who.union("newcomers", first, last)
        for since, buyers in enumerate(active[index:] if cohort else []):
            kept = cohort.intersection_cardinality(buyers)
            over = months[index + since][1] < today
            rows.append((first, since, len(cohort), kept,
                         kept / len(cohort) if over else float("nan")))
    return pd.DataFrame(rows, columns=["cohort", "months_since", "size", "customers",
                                       "share"])


@dataclass(frozen=True)
class CustomerReport:
    """Every customer count of the page, from one read of ``daily_customers``."""

    counts: Customers  # the period, churn against the previous period
    previous: Customers  # the same for the previous period (against the one before it)
    year_earlier: Customers  # the same for the days a year earlier
    by_country: pd.DataFrame  # active customers of the period per country, most first
    per_bucket: pd.DataFrame  # bucket, active, new and returning customers
    # For each calendar month the period touches with new customers (the cohort): the share
    # of them who ordered in each month since, up to the period's end. Columns ``cohort``
    # (the month's first day), ``months_since``, ``size``, ``customers`` and ``share``
    # (NaN while that month is not over: its customers so far are no share yet).
    cohorts: pd.DataFrame


def customer_report(actor: Actor, period: Period, filters: Filters = Filters(), *,
                    granularity: str = "month", today: date | None = None,
                    engine: Engine | None = None) -> CustomerReport:
    """Active, returning, repeat and churned customers, per country, per bucket of
    ``granularity`` (each marked partial or not, see :func:`bucket_spans`) and by cohort
    (months not over on ``today`` left without a share)."""
    require(actor, Capability.VIEW_KPIS)
    today = today or utcnow().date()
    compared = (period, period.previous(), period.year_earlier())
    months = _months(period.first, period.last)
    buckets = _buckets(period, granularity)
    with kpi_scope.connect(engine) as connection:
        counted = _week_counts(connection, buckets, filters)
        spans = [*((span.first, span.last) for compared_period in compared
                   for span in (compared_period, compared_period.previous())),
                 *months, *((first, last) for name, first, last in buckets
                            if name not in counted)]
        members = None
        if filters.segment_id is not None:
            members = connection.execute(kpi_scope.members(connection, filters.segment_id)
                                         ).scalars().all()
        who = WhoOrdered(connection, spans, filters.countries, members)
    return CustomerReport(counts=_counts(who, compared[0]), previous=_counts(who, compared[1]),
                          year_earlier=_counts(who, compared[2]),
                          by_country=_by_country(who, period),
                          per_bucket=_per_bucket(who, buckets, counted).merge(
                              bucket_spans(period, granularity, today=today), on="bucket"),
                          cohorts=_cohorts(who, months, today))


def _buckets(period: Period, granularity: str) -> list[tuple[date, date, date]]:
    """The period's days, weeks (from Monday) or calendar months as (name, first, last):
    named by their first day as in :func:`bucketed`, their span cut to the period."""
    if granularity == "month":
        spans = _months(period.first, period.last)
    elif granularity == "week":
        monday = period.first - timedelta(days=period.first.weekday())
        spans = [(monday + timedelta(weeks=index), monday + timedelta(weeks=index, days=6))
                 for index in range((period.last - monday).days // 7 + 1)]
    elif granularity == "day":
        spans = [(day, day) for day in (period.first + timedelta(days=index)
                                        for index in range(period.days))]
    else:
        raise ValueError(f"unknown granularity {granularity!r}")
    return [(first, max(first, period.first), min(last, period.last)) for first, last in spans]


def _months(first: date, last: date) -> list[tuple[date, date]]:
    """The calendar months from ``first``'s to ``last``'s, as (first day, last day)."""
    months, start = [], first.replace(day=1)
    while start <= last:
        following = (start + timedelta(days=32)).replace(day=1)
        months.append((start, following - timedelta(days=1)))
        start = following
    return months


def nps_daily(actor: Actor, period: Period, filters: Filters = Filters(), *,
              engine: Engine | None = None) -> pd.DataFrame:
    """Survey answers per day of ``period`` that has any, by group (promoters, passives,
    detractors); :func:`bucketed` sums them and :func:`nps_of` scores each bucket."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        answers = _cells(connection, NPS_CELLS, filters)
        query = (select(answers.c.day, *(func.sum(answers.c[name]) for name in NPS_GROUPS))
                 .where(answers.c.day.between(period.first, period.last),
                        *_narrowed(answers, filters))
                 .group_by(answers.c.day).order_by(answers.c.day))
        frame = pd.DataFrame(connection.execute(query).all(), columns=["day", *NPS_GROUPS])
    return frame.astype(dict.fromkeys(NPS_GROUPS, "int64"))


def nps_of(answers: pd.DataFrame) -> pd.Series:
    """NPS per row of promoter, passive and detractor counts (NaN where no answers)."""
    total = answers["promoters"] + answers["passives"] + answers["detractors"]
    return (100 * (answers["promoters"] - answers["detractors"]) / total.where(total > 0))


_RECENCY_DAYS = (30, 90, 180, 365)  # the last day of scores 5, 4, 3 and 2
_FREQUENCY_ORDERS = (10, 5, 3, 2)  # the fewest orders of scores 5, 4, 3 and 2


def _rfm_group(recency: int, frequency: int) -> str:
    """The usual names of an RFM grid's regions."""
    if recency >= 4 and frequency >= 4:
        return "Champions"
    if recency >= 3 and frequency >= 3:
        return "Loyal"
    if recency == 5 and frequency == 1:
        return "New"
    if recency >= 4:
        return "Promising"
    if recency == 3:
        return "Need attention"
    if recency == 2:
        return "At risk" if frequency >= 3 else "Hibernating"
    return "Can't lose" if frequency >= 4 else "Lost"


RFM_GROUPS = {(recency, frequency): _rfm_group(recency, frequency)
              for recency in range(1, 6) for frequency in range(1, 6)}


def rfm(actor: Actor, filters: Filters = Filters(), *, today: date | None = None,
        engine: Engine | None = None) -> pd.DataFrame:
    """Customers per RFM cell: ``recency`` and ``frequency`` scores, ``group``,
    ``customers`` and ``spend_cents`` (their spend to date). Country and segment apply."""
    require(actor, Capability.VIEW_KPIS)
    day = today or utcnow().date()
    with kpi_scope.connect(engine) as connection:
        rows = _cells(connection, RECENCY_CELLS, filters)
        # Days since the last order = today − its day; score 5 for at most 30, and so on.
        recency = case(*((rows.c.last_order_day >= day - timedelta(days=days), 5 - index)
                         for index, days in enumerate(_RECENCY_DAYS)), else_=1)
        frequency = case(*((rows.c.orders >= orders, 5 - index)
                           for index, orders in enumerate(_FREQUENCY_ORDERS)), else_=1)
        query = (select(recency.label("recency"), frequency.label("frequency"),
                        func.sum(rows.c.customers), func.sum(rows.c.spend_cents))
                 .where(*_narrowed(rows, filters)).group_by(recency, frequency))
        frame = pd.DataFrame(connection.execute(query).all(),
                             columns=["recency", "frequency", "customers", "spend_cents"])
    frame = frame.astype("int64")
    frame.insert(2, "group", [RFM_GROUPS[(int(r), int(f))]
                              for r, f in zip(frame["recency"], frame["frequency"], strict=True)])
    return frame.sort_values(["recency", "frequency"], ascending=False, ignore_index=True)


def average_lifetime_value_cents(actor: Actor, filters: Filters = Filters(), *,
                                 engine: Engine | None = None) -> float | None:
    """Spend to date per live customer with at least one order (channel and category do not
    apply)."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        rows = _cells(connection, RECENCY_CELLS, filters)
        spend, customers = connection.execute(
            select(func.sum(rows.c.spend_cents), func.sum(rows.c.customers))
            .where(*_narrowed(rows, filters))).one()
    return int(spend) / int(customers) if customers else None


# A period touching more months than this is bounded by each customer's spend to date
# instead (one list rather than many). At a million customers, by month: 30 days 7-31 ms,
# 90 days 18-102 ms, 365 days 72-87 ms; by spend to date: 0.8-0.9 s, 0.18 s and 42-61 ms.
MONTH_LISTS = 6


def top_customers(actor: Actor, period: Period, filters: Filters = Filters(), *,
                  limit: int = 20, engine: Engine | None = None) -> pd.DataFrame:
    """The ``limit`` live customers with the most revenue (above zero) in ``period``, ties to
    the lower id: ``customer_id``, ``first_name``, ``last_name``, ``country``,
    ``revenue_cents`` and ``orders``. Every filter applies.

    A year of a million customers' orders is four million rows; summing them all took
    seconds. No customer's revenue in a period can exceed their spend before refunds in the
    months it touches, nor their spend to date, so :func:`db.kpi.top.best` sums only the
    customers near the top of those (see there).
    """
    require(actor, Capability.VIEW_KPIS)
    start, end = period.bounds()
    revenue = func.sum(cents(Order.amount))
    in_period = [Order.ordered_at >= start, Order.ordered_at < end]
    if filters.channels:
        in_period.append(Order.channel.in_(filters.channels))
    if filters.categories:
        in_period.append(Order.category.in_(filters.categories))
    totals = (select(Order.customer_id, revenue.label("revenue"),
                     func.sum(case((Order.amount >= 0, 1), else_=0)).label("orders"))
              .where(*in_period).group_by(Order.customer_id).having(revenue > 0))
    with kpi_scope.connect(engine) as connection:
        who = [live()]
        if filters.countries:
            who.append(CUSTOMER.country.in_(filters.countries))
        if filters.segment_id is not None:
            who.append(CUSTOMER.id.in_(kpi_scope.members(connection, filters.segment_id)))
        found = top_search.best(connection, totals, _bound_lists(period, who), limit)
        names = {row.id: row for row in connection.execute(
            select(CUSTOMER.id, CUSTOMER.first_name, CUSTOMER.last_name, CUSTOMER.country)
            .where(CUSTOMER.id.in_([row.customer_id for row in found])))}
    return pd.DataFrame(
        [(row.customer_id, names[row.customer_id].first_name,
          names[row.customer_id].last_name, names[row.customer_id].country,
          int(row.revenue), int(row.orders)) for row in found],
        columns=["customer_id", "first_name", "last_name", "country", "revenue_cents",
                 "orders"])


def _bound_lists(period: Period, who: list[ColumnElement[bool]]) -> list[BoundList]:
    """Upper bounds on the period's revenue of the customers ``who`` selects: their spend in
    each month the period touches, or (for long periods) their spend to date."""
    table = Customer.__table__  # type: ignore[attr-defined]
    months = _months(period.first, period.last)
    if len(months) <= MONTH_LISTS:
        return [BoundList(select(MONTHS.c.customer_id, MONTHS.c.gross_cents)
                          .join(table, CUSTOMER.id == MONTHS.c.customer_id)
                          .where(MONTHS.c.month == month, *who),
                          MONTHS.c.customer_id, MONTHS.c.gross_cents)
                for month, _ in months]
    # Only customers whose newest order is not before the period can have any.
    return [BoundList(select(SUMMARY.c.customer_id, SUMMARY.c.gross_cents)
                      .join(table, CUSTOMER.id == SUMMARY.c.customer_id)
                      .where(SUMMARY.c.gross_cents > 0,
                             SUMMARY.c.last_order_at >= period.bounds()[0], *who),
                      SUMMARY.c.customer_id, SUMMARY.c.gross_cents)]


@dataclass(frozen=True)
class Dashboard:
    """Every figure of the KPI page for one choice of period, granularity and filters."""

    period: Period
    first_day: date | None  # the first day with an order: comparisons before it are empty
    sales: Sales
    sales_previous: Sales
    sales_year_earlier: Sales
    # Per bucket: the sales measures, ``previous_*`` moved onto it, and its span
    # (``first``, ``last``, ``partial``; see :func:`bucket_spans`), as have the other series.
    trend: pd.DataFrame
    customers: CustomerReport
    engagement: Engagement
    engagement_previous: Engagement
    engagement_year_earlier: Engagement
    lifetime_value_cents: float | None
    by_category: pd.DataFrame
    by_channel: pd.DataFrame
    nps: pd.DataFrame  # per bucket with answers: promoters, passives, detractors and nps
    rfm: pd.DataFrame
    top_customers: pd.DataFrame

    @property
    def has_year_earlier(self) -> bool:
        """Whether the days a year earlier lie within the data (else no comparison)."""
        return self.first_day is not None and self.first_day <= self.period.year_earlier().first


def _totals(days: pd.DataFrame) -> Sales:
    return Sales(*(int(days[name].sum()) for name in SALES_MEASURES))


def dashboard(actor: Actor, period: Period, granularity: str, filters: Filters = Filters(), *,
              today: date | None = None, engine: Engine | None = None) -> Dashboard:
    """Every figure of the KPI page (what the page caches and the benchmark times), on one
    connection (see :mod:`db.kpi.scope`); the RFM grid is scored on ``today``."""
    require(actor, Capability.VIEW_KPIS)
    engine = engine or get_engine()
    today = today or utcnow().date()
    previous = period.previous()
    spans = bucket_spans(period, granularity, today=today)
    with kpi_scope.shared(engine, filters.segment_id) as connection:
        current_days = daily(actor, period, filters, engine=engine)
        previous_days = daily(actor, previous, filters, engine=engine)
        moved = previous_days.assign(day=previous_days["day"] + timedelta(days=period.days))
        trend = bucketed(current_days, granularity).merge(
            bucketed(moved, granularity).add_prefix("previous_").rename(
                columns={"previous_bucket": "bucket"}), on="bucket", how="left").fillna(0)
        answers = bucketed(nps_daily(actor, period, filters, engine=engine), granularity)
        first_day = connection.execute(select(func.min(sales_table(set()).table.c.day))
                                       ).scalar_one()
        return Dashboard(
            period=period, first_day=first_day, sales=_totals(current_days),
            sales_previous=_totals(previous_days),
            sales_year_earlier=sales(actor, period.year_earlier(), filters, engine=engine),
            trend=trend.merge(spans, on="bucket"),
            customers=customer_report(actor, period, filters, granularity=granularity,
                                      today=today, engine=engine),
            engagement=engagement(actor, period, filters, engine=engine),
            engagement_previous=engagement(actor, previous, filters, engine=engine),
            engagement_year_earlier=engagement(actor, period.year_earlier(), filters,
                                               engine=engine),
            lifetime_value_cents=average_lifetime_value_cents(actor, filters, engine=engine),
            by_category=breakdown(actor, period, "category", filters, engine=engine),
            by_channel=breakdown(actor, period, "channel", filters, engine=engine),
            nps=answers.assign(nps=nps_of(answers)).merge(spans, on="bucket"),
            rfm=rfm(actor, filters, today=today, engine=engine),
            top_customers=top_customers(actor, period, filters, engine=engine),
        )


@dataclass(frozen=True)
class Download:
    """A KPI table ready to download: CSV bytes and the file name."""

    data: bytes
    file_name: str


def _euros(cents: float) -> Decimal | None:
    """Cents as euros with exactly two decimals (a Decimal, so the CSV shows 10.00)."""
    return None if pd.isna(cents) else Decimal(round(cents)).scaleb(-2)


def csv_download(frame: pd.DataFrame, what: str, days: Period) -> Download:
    """``frame`` as a spreadsheet-safe CSV (:func:`db.exports.spreadsheet_csv`, so a name
    such as ``=HYPERLINK(...)`` cannot run), money in euros: each ``*_cents`` column becomes
    ``*_eur`` with two decimals. Named by what it holds and its days, e.g.
    ``revenue-by-week_2026-09-02_2026-11-30.csv`` (one date for a single day)."""
    money = {name: name.removesuffix("_cents") + "_eur" for name in frame.columns
             if name.endswith("_cents")}
    shown = frame.assign(**{name: frame[name].map(_euros) for name in money}
                         ).rename(columns=money)
    dates = (f"{days.first:%Y-%m-%d}" if days.days == 1
             else f"{days.first:%Y-%m-%d}_{days.last:%Y-%m-%d}")
    return Download(exports.spreadsheet_csv(shown), f"{what}_{dates}.csv")


def filter_options(actor: Actor, *, engine: Engine | None = None) -> dict[str, list[str]]:
    """The countries, channels and categories that have sales, for the page's pick lists."""
    require(actor, Capability.VIEW_KPIS)
    found = {}
    with kpi_scope.connect(engine) as connection:
        for name, column in (("countries", "country"), ("channels", "channel"),
                             ("categories", "category")):
            table = sales_table({column}).table
            found[name] = list(connection.execute(
                select(table.c[column]).distinct().order_by(table.c[column])).scalars())
    return found
