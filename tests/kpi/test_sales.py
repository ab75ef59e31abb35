"""The sales figures against an independent pandas computation on the same rows, on both engines."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from db.kpi.filters import Filters
from db.kpi.periods import GRANULARITIES, Period, bucketed
from db.kpi.sales import BREAKDOWNS, SALES_MEASURES, Sales, breakdown, daily, sales
from tests.factories import MANAGER
from tests.kpi.reference import (
    FILTERS,
    PERIODS,
    chosen_customers,
    in_days,
    reference_sales,
)


@pytest.mark.parametrize("period", PERIODS, ids=str)
def test_sales_match_the_reference(engine: Engine, shop: dict, period: Period) -> None:
    for filters in FILTERS:
        got = sales(MANAGER, period, filters, engine=engine)
        assert got == reference_sales(shop, period, filters), filters


def test_the_last_second_of_the_last_day_counts(engine: Engine, shop: dict) -> None:
    edge = Filters(countries=("DE",), categories=("books",), channels=("web",))
    upto = sales(MANAGER, Period(date(2026, 3, 2), date(2026, 3, 2)), edge,
                         engine=engine)
    after = sales(MANAGER, Period(date(2026, 3, 3), date(2026, 3, 3)), edge,
                          engine=engine)
    by_hand = shop["orders"][(shop["orders"]["customer_id"] == shop["ids"][0])
                             & (shop["orders"]["category"] == "books")
                             & (shop["orders"]["channel"] == "web")]
    on_day = [a for a, at in zip(by_hand["amount"], by_hand["at"], strict=True)
              if at.date() == date(2026, 3, 2)]
    assert upto.orders >= 1 and upto.revenue_cents >= 1000
    assert upto.revenue_cents == sum(int(a * 100) for a in on_day) + _others(shop, edge)
    assert after == reference_sales(shop, Period(date(2026, 3, 3), date(2026, 3, 3)), edge)


def _others(shop: dict, filters: Filters) -> int:
    """Cents of day 60's matching orders from customers other than the first."""
    orders = shop["orders"]
    keep = (in_days(orders, Period(date(2026, 3, 2), date(2026, 3, 2)))
            & chosen_customers(orders, shop, filters) & orders["channel"].isin(filters.channels)
            & orders["category"].isin(filters.categories)
            & (orders["customer_id"] != shop["ids"][0]))
    return sum(int(amount * 100) for amount in orders[keep]["amount"])


def test_a_tie_on_the_first_moment_makes_one_new_customer(engine: Engine, shop: dict) -> None:
    day = Period(date(2026, 2, 15), date(2026, 2, 15))
    tied = Filters(countries=(shop["country"][shop["ids"][11]],))
    got = sales(MANAGER, day, tied, engine=engine)
    assert got.new_customers == reference_sales(shop, day, tied).new_customers >= 1
    # The lower id (the wine order) was first: only the wine filter sees a new customer.
    assert sales(MANAGER, day, Filters(countries=tied.countries,
                                               categories=("books",)),
                         engine=engine).new_customers == reference_sales(
        shop, day, Filters(countries=tied.countries, categories=("books",))).new_customers


def test_a_segment_filter_narrows_to_its_members(engine: Engine, shop: dict,
                                                 austria: tuple) -> None:
    segment, members = austria
    for period in PERIODS[:2]:
        got = sales(MANAGER, period, Filters(segment_id=segment.id), engine=engine)
        assert got == reference_sales(shop, period, Filters(), members)


def test_daily_series_matches_the_reference_and_buckets_keep_the_sums(engine: Engine,
                                                                      shop: dict) -> None:
    period = PERIODS[1]
    filters = Filters(channels=("web",))
    days = daily(MANAGER, period, filters, engine=engine)
    assert len(days) == period.days and days["day"].is_monotonic_increasing
    for row in days.itertuples():
        one_day = Period(row.day, row.day)
        assert Sales(row.revenue_cents, row.orders, row.refunds,
                             row.new_customers) == reference_sales(shop, one_day, filters)
    for granularity in GRANULARITIES:
        buckets = bucketed(days, granularity)
        assert buckets["revenue_cents"].sum() == days["revenue_cents"].sum()
        if granularity == "week":
            assert set(buckets["bucket"].dt.day_of_week) == {0}
        if granularity == "month":
            assert list(buckets["bucket"].dt.day) == [1] * len(buckets) and len(buckets) == 2
    empty = daily(MANAGER, PERIODS[3], engine=engine)
    assert len(empty) == 30 and not empty[list(SALES_MEASURES)].any().any()



def test_breakdowns_match_the_reference(engine: Engine, shop: dict) -> None:
    period, filters = PERIODS[1], Filters(channels=("web", "app"))
    orders = shop["orders"]
    chosen = orders[in_days(orders, period) & orders["channel"].isin(filters.channels)]
    for by in BREAKDOWNS:
        got = breakdown(MANAGER, period, by, filters, engine=engine)
        key = chosen["customer_id"].map(shop["country"]) if by == "country" else chosen[by]
        cents = chosen["amount"].map(lambda amount: int(amount * 100)).groupby(key).sum()
        assert dict(zip(got["group"], got["revenue_cents"], strict=True)) == cents.to_dict()
        assert list(got["revenue_cents"]) == sorted(got["revenue_cents"], reverse=True)
