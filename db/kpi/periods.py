"""The days a KPI figure covers, and how time series cut them into buckets.

Periods are whole UTC calendar days, the first and the last included (an order at 23:59:59
UTC on the last day counts). Every figure of a period is compared with the period of equal
length just before it and with the same days a year earlier.

A **partial bucket** is a day, week or month of a time series that the period cuts (it
starts after the bucket's first day or ends before its last) or that holds today, which is
not over; its sums cover fewer days than a whole bucket's, so charts mark it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd

from db.core.sql import years_before

GRANULARITIES = {"day": "Day", "week": "Week", "month": "Month"}
PRESETS = {"last_30": "Last 30 days", "last_90": "Last 90 days",
           "last_365": "Last 365 days", "year_to_date": "Year to date"}

# A bucket: (name, first day, last day); named by the whole bucket's first day, its days
# cut to the period.
Bucket = tuple[date, date, date]


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


def as_of(today: date, newest: date | None) -> date:
    """The day the presets end and the RFM grid is scored: ``today``, or the newest order's
    day when even the shortest preset ending today (the last 30 days) would hold no order,
    so that an old order log (a 1997–98 history loaded in 2026) shows its own last days
    rather than nothing. Current data, no data, or an order dated after today: ``today``."""
    if newest is None or newest >= preset("last_30", today).first:
        return today
    return newest


def months(first: date, last: date) -> list[tuple[date, date]]:
    """The calendar months from ``first``'s to ``last``'s, as (first day, last day)."""
    found, start = [], first.replace(day=1)
    while start <= last:
        following = (start + timedelta(days=32)).replace(day=1)
        found.append((start, following - timedelta(days=1)))
        start = following
    return found


def buckets(period: Period, granularity: str) -> list[Bucket]:
    """The period's days, weeks (from Monday) or calendar months as (name, first, last):
    named by their first day as in :func:`bucketed`, their span cut to the period."""
    if granularity == "month":
        spans = months(period.first, period.last)
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


def bucket_spans(period: Period, granularity: str, *, today: date) -> pd.DataFrame:
    """Each bucket of ``period`` (named by its first day, as :func:`bucketed` names it):
    ``first`` and ``last``, the days of the period in it, and ``partial`` when those are
    fewer than the whole bucket or include ``today`` (see the definition above)."""
    rows = []
    for name, first, last in buckets(period, granularity):
        whole_last = {"day": name, "week": name + timedelta(days=6),
                      "month": months(name, name)[0][1]}[granularity]
        rows.append((pd.Timestamp(name), first, last,
                     first != name or last != whole_last or last >= today))
    return pd.DataFrame(rows, columns=["bucket", "first", "last", "partial"])


def bucketed(days: pd.DataFrame, granularity: str) -> pd.DataFrame:
    """Per-day counts (every column but ``day``) summed into days, weeks (from Monday) or
    calendar months; each bucket is named by its first day (the first bucket may start
    before the period)."""
    stamps = pd.Series(pd.to_datetime(days["day"]))
    if granularity == "week":
        start = stamps - pd.to_timedelta(stamps.dt.day_of_week, unit="D")
    elif granularity == "month":
        start = stamps.dt.to_period("M").dt.start_time
    elif granularity == "day":
        start = stamps
    else:
        raise ValueError(f"unknown granularity {granularity!r}")
    measures = [column for column in days.columns if column != "day"]
    return days.assign(bucket=start).groupby("bucket", as_index=False)[measures].sum()
