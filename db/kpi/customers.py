"""The KPI page's customer counts: unions of the sets in ``daily_customers`` (and
``monthly_customers``), narrowed to a segment's members by intersection, so distinct
customers over any period stay exact.

Definitions (country and segment apply; channel and category do not, see
:mod:`db.kpi.filters`):

- **Active customers**: customers with an order (amount zero or more) in the period.
- **Returning-customer share**: of the active customers, those whose first order of all was
  before the period.
- **Repeat-purchase rate**: of the active customers, those with two or more orders in it.
- **Churn rate**: of the customers active in the previous period of equal length, those with
  no order in this one; **retention rate** is the rest, so the two add up to 100 %.
- **Cohort retention**: customers grouped by the calendar month of their first order; for
  each later month, the share of the cohort with an order in it. A month that is not over
  yet has no share (a day-old month would read as everyone gone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from db.core.access import Actor, Capability, require
from db.core.types import utcnow
from db.derived.buyer_cells import WEEKLY
from db.kpi import scope as kpi_scope
from db.kpi.buyer_sets import WhoOrdered
from db.kpi.filters import NO_FILTERS, Filters
from db.kpi.periods import Bucket, Period, bucket_spans, buckets, months


def _share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a fraction; none of nothing."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Customers:
    """A period's customer counts, and the previous period's actives for churn; the rates
    are fractions of the active customers (churn and retention: of the previous period's)."""

    active: int = 0
    returning: int = 0
    repeaters: int = 0
    previous_active: int = 0
    retained: int = 0  # active in the previous period and in this one

    @property
    def returning_share(self) -> float | None:
        return _share(self.returning, self.active)

    @property
    def repeat_rate(self) -> float | None:
        return _share(self.repeaters, self.active)

    @property
    def churn_rate(self) -> float | None:
        return _share(self.previous_active - self.retained, self.previous_active)

    @property
    def retention_rate(self) -> float | None:
        return _share(self.retained, self.previous_active)


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


def customer_report(actor: Actor, period: Period, filters: Filters = NO_FILTERS, *,
                    granularity: str = "month", today: date | None = None,
                    engine: Engine | None = None) -> CustomerReport:
    """Active, returning, repeat and churned customers, per country, per bucket of
    ``granularity`` (each marked partial or not, see :func:`db.kpi.periods.bucket_spans`)
    and by cohort (months not over on ``today`` left without a share)."""
    require(actor, Capability.VIEW_KPIS)
    today = today or utcnow().date()
    compared = (period, period.previous(), period.year_earlier())
    cohort_months = months(period.first, period.last)
    cut = buckets(period, granularity)
    with kpi_scope.connect(engine) as connection:
        counted = _week_counts(connection, cut, filters)
        spans = [*((span.first, span.last) for compared_period in compared
                   for span in (compared_period, compared_period.previous())),
                 *cohort_months, *((first, last) for name, first, last in cut
                                   if name not in counted)]
        members = None
        if filters.segment_id is not None:
            members = list(connection.execute(
                kpi_scope.members(connection, filters.segment_id)).scalars())
        who = WhoOrdered(connection, spans, filters.countries, members)
    return CustomerReport(counts=_counts(who, compared[0]), previous=_counts(who, compared[1]),
                          year_earlier=_counts(who, compared[2]),
                          by_country=_by_country(who, period),
                          per_bucket=_per_bucket(who, cut, counted).merge(
                              bucket_spans(period, granularity, today=today), on="bucket"),
                          cohorts=_cohorts(who, cohort_months, today))


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


def _per_bucket(who: WhoOrdered, cut: list[Bucket],
                counted: dict[date, tuple[int, int]]) -> pd.DataFrame:
    """Active customers per bucket, split into new (first order of all in the bucket) and
    returning; ``counted`` gives (active, new) of whole weeks by their Monday."""
    rows = []
    for name, first, last in cut:
        if name in counted:
            active_count, new = counted[name]
        else:
            active = who.union("buyers", first, last)
            active_count = len(active)
            new = active.intersection_cardinality(who.union("newcomers", first, last))
        rows.append((pd.Timestamp(name), active_count, new, active_count - new))
    return pd.DataFrame(rows, columns=["bucket", "active", "new", "returning"])


def _week_counts(connection: Connection, cut: list[Bucket],
                 filters: Filters) -> dict[date, tuple[int, int]]:
    """(active, new) of the buckets that are whole weeks, from ``weekly_customers``: a
    customer has one country, so the countries' counts add up. None for a segment, whose
    members need the sets."""
    weeks = [name for name, first, last in cut
             if first == name and last == name + timedelta(days=6)]
    if filters.segment_id is not None or not weeks:
        return {}
    query = (select(WEEKLY.c.week, func.sum(WEEKLY.c.active), func.sum(WEEKLY.c.new))
             .where(WEEKLY.c.week.between(weeks[0], weeks[-1])).group_by(WEEKLY.c.week))
    if filters.countries:
        query = query.where(WEEKLY.c.country.in_(filters.countries))
    found = {week: (int(active), int(new)) for week, active, new in connection.execute(query)}
    return {week: found.get(week, (0, 0)) for week in weeks}


def _cohorts(who: WhoOrdered, cohort_months: list[tuple[date, date]],
             today: date) -> pd.DataFrame:
    active = [who.union("buyers", first, last) for first, last in cohort_months]
    rows = []
    for index, (first, last) in enumerate(cohort_months):
        cohort = who.union("newcomers", first, last)
        for since, buyers in enumerate(active[index:] if cohort else []):
            kept = cohort.intersection_cardinality(buyers)
            over = cohort_months[index + since][1] < today
            rows.append((first, since, len(cohort), kept,
                         kept / len(cohort) if over else float("nan")))
    return pd.DataFrame(rows, columns=["cohort", "months_since", "size", "customers",
                                       "share"])
