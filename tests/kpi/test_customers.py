"""The customer counts against an independent pandas computation on the same rows, on both
engines."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine

from db.kpi.customers import Customers, customer_report
from db.kpi.filters import Filters
from db.kpi.periods import Period
from tests.factories import MANAGER
from tests.kpi.reference import (
    FILTERS,
    PERIODS,
    chosen_customers,
    in_days,
    reference_customers,
)


def _counts(engine: Engine, period: Period, filters: Filters = FILTERS[0]) -> Customers:
    return customer_report(MANAGER, period, filters, engine=engine).counts


def test_customer_counts_match_the_reference(engine: Engine, shop: dict) -> None:
    for period in [*PERIODS, Period(date(2026, 1, 1), date(2026, 5, 1))]:
        for filters in FILTERS[:2]:
            report = customer_report(MANAGER, period, filters, engine=engine)
            assert report.counts == reference_customers(shop, period, filters), (period,
                                                                                   filters)
            assert report.year_earlier == reference_customers(
                shop, period.year_earlier(), filters)
    assert _counts(engine, PERIODS[1]).active > 5
    # Channel and category filters leave the customer counts alone (see db.kpi.filters).
    assert _counts(engine, PERIODS[1], Filters(channels=("web",))) == _counts(engine,
                                                                              PERIODS[1])


def test_customer_counts_follow_a_segment_and_rates_add_up(engine: Engine, shop: dict,
                                                          austria: tuple) -> None:
    segment, members = austria
    got = _counts(engine, PERIODS[1], Filters(segment_id=segment.id))
    assert got == reference_customers(shop, PERIODS[1], Filters(), members)
    counts = _counts(engine, PERIODS[1])
    assert counts.churn_rate + counts.retention_rate == pytest.approx(1.0)
    assert _counts(engine, PERIODS[3]).returning_share is None


def test_cohorts_match_the_reference(engine: Engine, shop: dict) -> None:
    period = Period(date(2026, 1, 10), date(2026, 4, 30))
    got = customer_report(MANAGER, period, engine=engine).cohorts
    orders = shop["orders"].assign(month=shop["orders"]["at"].map(
        lambda moment: moment.astimezone(UTC).date().replace(day=1)))
    cohort_of = orders.groupby("customer_id")["month"].min()
    bought = orders[orders["amount"] >= 0]
    expected = []
    months = [date(2026, month, 1) for month in range(1, 5)]
    for index, month in enumerate(months):
        cohort = set(cohort_of[cohort_of == month].index)
        if not cohort:
            continue
        for since, later in enumerate(months[index:]):
            kept = len(cohort & set(bought[bought["month"] == later]["customer_id"]))
            expected.append((month, since, len(cohort), kept))
    assert [tuple(row) for row in got[["cohort", "months_since", "size", "customers"]]
            .itertuples(index=False)] == expected
    assert got.loc[got["months_since"] == 0, "share"].le(1).all() and len(expected) >= 4


@pytest.mark.parametrize("granularity", ["week", "month"])
def test_new_and_returning_per_bucket_match_the_reference(engine: Engine, shop: dict,
                                                          granularity: str) -> None:
    """Whole weeks come from the weekly counts, cut ones and months from the sets."""
    period = Period(date(2026, 1, 10), date(2026, 4, 30))
    orders = shop["orders"]
    first_day = orders.groupby("customer_id")["at"].min().map(lambda moment: moment.date())
    for filters in FILTERS[:2]:  # everyone, then one country
        got = customer_report(MANAGER, period, filters, granularity=granularity,
                                      engine=engine).per_bucket
        bought = orders[(orders["amount"] >= 0) & chosen_customers(orders, shop, filters)]
        for row in got.itertuples():
            start = row.bucket.date()
            end = (start + timedelta(days=6) if granularity == "week"
                   else (start + timedelta(days=32)).replace(day=1) - timedelta(days=1))
            bucket = Period(max(start, period.first), min(end, period.last))
            active = set(bought[in_days(bought, bucket)]["customer_id"])
            new = {customer for customer in active
                   if bucket.first <= first_day[customer] <= bucket.last}
            assert (row.active, row.new, row.returning) == (len(active), len(new),
                                                            len(active - new)), (row, filters)
        assert got["active"].sum() > 0
        # The Monday (or the first of the month) before the start names the first bucket.
        assert got["bucket"].iloc[0] == pd.Timestamp(2026, 1, 5 if granularity == "week"
                                                      else 1)



def test_customers_by_country_match_the_reference(engine: Engine, shop: dict) -> None:
    period, orders = PERIODS[1], shop["orders"]
    bought = orders[(orders["amount"] >= 0) & in_days(orders, period)]
    expected = bought.groupby(bought["customer_id"].map(shop["country"]))[
        "customer_id"].nunique().to_dict()
    got = customer_report(MANAGER, period, engine=engine).by_country
    assert dict(zip(got["country"], got["customers"], strict=True)) == expected
    assert customer_report(MANAGER, PERIODS[3], engine=engine).by_country.empty
