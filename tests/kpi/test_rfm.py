"""The RFM grid and the lifetime value against an independent pandas computation, on both
engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from db.kpi.filters import Filters
from db.kpi.rfm import RFM_GROUPS, average_lifetime_value_cents, rfm
from tests.factories import MANAGER


def _score(value: int, limits: tuple[int, ...], *, at_most: bool) -> int:
    """5 for the first limit met, then 4, 3, 2; 1 for none (written apart from db.kpi.rfm)."""
    for index, limit in enumerate(limits):
        if (value <= limit) if at_most else (value >= limit):
            return 5 - index
    return 1


@pytest.mark.parametrize("days_after", [30, 31, 365, 366])
def test_rfm_grid_matches_the_reference(engine: Engine, shop: dict, days_after: int) -> None:
    orders = shop["orders"][shop["orders"]["customer_id"] != shop["ids"][3]]  # deleted
    # Today is a band's edge for the customer who ordered last.
    today = orders["at"].max().date() + timedelta(days=days_after)
    got = rfm(MANAGER, today=today, engine=engine)
    per_customer = orders.groupby("customer_id").agg(
        last=("at", "max"), orders=("at", "size"), spend=("amount", "sum"))
    per_customer["recency"] = [_score((today - last.date()).days, (30, 90, 180, 365),
                                      at_most=True) for last in per_customer["last"]]
    per_customer["frequency"] = [_score(count, (10, 5, 3, 2), at_most=False)
                                 for count in per_customer["orders"]]
    expected = per_customer.groupby(["recency", "frequency"]).agg(
        customers=("orders", "size"), spend=("spend", "sum"))
    assert {(row.recency, row.frequency): (row.customers, row.spend_cents)
            for row in got.itertuples()} == {
        key: (row.customers, int(row.spend * 100)) for key, row in expected.iterrows()}
    assert got["customers"].sum() == len(per_customer)
    assert RFM_GROUPS[(5, 5)] == "Champions" and RFM_GROUPS[(1, 1)] == "Lost"
    assert set(got["group"]) <= set(RFM_GROUPS.values())



def test_lifetime_value_matches_the_reference(engine: Engine, shop: dict) -> None:
    orders = shop["orders"][shop["orders"]["customer_id"] != shop["ids"][3]]  # deleted
    spend = orders.groupby("customer_id")["amount"].sum()
    assert average_lifetime_value_cents(MANAGER, engine=engine) == pytest.approx(
        float(spend.mean() * 100))
    german = spend[spend.index.map(shop["country"]) == "DE"]
    assert average_lifetime_value_cents(
        MANAGER, Filters(countries=("DE",)), engine=engine) == pytest.approx(
        float(german.mean() * 100))
