"""The demo generator: deterministic, and realistic in the ways its module promises."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from sqlalchemy import Engine

from db.demo.generator import DemoGenerator
from db.models import ConsentEvent, Customer, Feedback, Order
from tests.demo.conftest import AS_OF
from tests.demo.frames import frame


def _draw(seed: int, size: int = 300) -> dict[str, np.ndarray]:
    chunk = DemoGenerator(seed=seed, as_of=AS_OF, orders_per_customer=10.0,
                          staff_ids=[]).draw(1, size)
    return {"amount": chunk.orders["amount"], "at": chunk.orders["at"],
            "last": chunk.people["last"], "status": chunk.status}


def test_the_same_seed_draws_the_same_arrays() -> None:
    first, again, other = _draw(5), _draw(5), _draw(6)
    for name in first:
        assert np.array_equal(first[name], again[name])
    assert not np.array_equal(first["last"], other["last"])


def test_orders_end_before_the_day_the_data_ends() -> None:
    assert _draw(5)["at"].max() < np.datetime64(AS_OF, "s")


def test_demo_data_looks_like_a_real_business(demo_engine: Engine) -> None:
    customers = frame(demo_engine, Customer).set_index("id")
    orders = frame(demo_engine, Order)
    orders["amount"] = orders["amount"].map(Decimal).astype(float)

    # A minority of customers brings most of the revenue.
    spend = orders.groupby("customer_id")["amount"].sum().sort_values(ascending=False)
    top_fifth = spend.head(len(spend) // 5).sum() / spend.sum()
    assert top_fifth > 0.5
    # Seasonality: December outsells July, per day, across the years.
    month = orders["ordered_at"].map(lambda at: at.month)
    assert orders[month == 12]["amount"].sum() > 1.3 * orders[month == 7]["amount"].sum()
    # Orders fall after sign-up and before the day the data ends.
    joined = orders.join(customers["created_at"], on="customer_id")
    assert (joined["ordered_at"] >= joined["created_at"]).all()
    assert orders["ordered_at"].max() < datetime(2026, 6, 15, tzinfo=UTC)
    # Some customers stopped buying; some never bought; statuses say so.
    assert set(customers["status"]) == {"lead", "active", "inactive", "churned"}
    buyers = set(orders["customer_id"])
    assert all(cid not in buyers for cid in customers.index[customers["status"] == "lead"])

    consent = frame(demo_engine, ConsentEvent)
    email_consent = consent[consent["purpose"] == "email_marketing"]
    assert 0.3 < email_consent["granted"].mean() < 1  # grants and some withdrawals
    feedback = frame(demo_engine, Feedback)
    assert feedback["nps_score"].between(0, 10).all()
    assert feedback["nps_score"].nunique() > 5
