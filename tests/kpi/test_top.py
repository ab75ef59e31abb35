"""The top customers against an independent pandas computation, on both engines."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from db.customers.orders import record_order
from db.kpi import top
from db.kpi.periods import Period
from tests import factories
from tests.factories import MANAGER
from tests.kpi.reference import (
    FILTERS,
    PERIODS,
    chosen_customers,
    in_days,
    utc_at,
)


@pytest.mark.parametrize("bounds", ["spend per month", "spend to date"])
def test_top_customers_match_the_reference(engine: Engine, shop: dict, bounds: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages of one or two customers: the search stops on its threshold, not on running out.
    monkeypatch.setattr(top, "FIRST_PAGE", 1)
    monkeypatch.setattr(top, "LAST_PAGE", 2)
    if bounds == "spend to date":  # what long periods use
        monkeypatch.setattr(top, "MONTH_LISTS", 0)
    orders = shop["orders"][shop["orders"]["customer_id"] != shop["ids"][3]]  # deleted
    for period in PERIODS[:3]:
        for filters in FILTERS:
            chosen = orders[in_days(orders, period) & chosen_customers(orders, shop, filters)]
            if filters.channels:
                chosen = chosen[chosen["channel"].isin(filters.channels)]
            if filters.categories:
                chosen = chosen[chosen["category"].isin(filters.categories)]
            cents = chosen["amount"].map(lambda amount: int(amount * 100)).groupby(
                chosen["customer_id"]).sum()
            expected = sorted(((customer, total) for customer, total in cents.items()
                               if total > 0), key=lambda item: (-item[1], item[0]))[:4]
            got = top.top_customers(MANAGER, period, filters, limit=4, engine=engine)
            assert list(zip(got["customer_id"], got["revenue_cents"], strict=True)) == \
                expected, (period, filters)
    assert top.top_customers(MANAGER, PERIODS[3], engine=engine).empty
    named = top.top_customers(MANAGER, PERIODS[0], limit=1, engine=engine)
    assert named["first_name"].iloc[0].startswith("K") and named["orders"].iloc[0] >= 1


def test_top_customers_add_up_a_customer_spread_over_two_months(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one who spent 60 in each month beats everyone's 100 in one: the search must
    bound the unseen by the sum of both months' lists, not by either alone."""
    monkeypatch.setattr(top, "FIRST_PAGE", 1)
    monkeypatch.setattr(top, "LAST_PAGE", 1)
    spend = {"Both": (60, 60), "Jan": (100, 0), "Feb": (0, 100)}
    spend |= {f"J{cents}": (cents, 0) for cents in (95, 94, 93)}
    spend |= {f"F{cents}": (0, cents) for cents in (95, 94, 93)}
    for name, months in spend.items():
        customer_id = factories.customer(engine, name, "Test").id
        for day, amount in zip((utc_at(19), utc_at(40)), months, strict=True):
            if amount:
                record_order(MANAGER, customer_id, amount=str(amount), category="books",
                             channel="web", product="p", ordered_at=day, engine=engine)
    got = top.top_customers(MANAGER, Period(date(2026, 1, 15), date(2026, 2, 15)),
                                limit=1, engine=engine)
    assert list(zip(got["first_name"], got["revenue_cents"], strict=True)) == [("Both", 12000)]

