"""Builders for the prediction tests: the CDNOW sample the paper used (read from the
``lifetimes`` wheel's data files, never importing the package) and small populations of
buyers written straight into ``customer`` and ``orders`` (the models read only those)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from db.core.sql import table_of
from db.models import Customer, Order


def cdnow_file(name: str) -> Path:
    """A data file bundled in the ``lifetimes`` wheel (a test extra)."""
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations, "pip install lifetimes"
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / name


def cdnow_orders() -> pd.DataFrame:
    """The CDNOW sample's 6,919 purchases of 2,357 customers, 1997-01-01 to 1998-06-30."""
    raw = pd.read_csv(cdnow_file("CDNOW_sample.txt"), sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "amount"])
    return pd.DataFrame({"customer_id": raw["customer_id"],
                         "day": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
                         "amount": raw["amount"]})


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def add_customers(engine: Engine, count: int, *, start_id: int = 1000) -> list[int]:
    now = datetime.now(UTC)
    rows = [{"id": start_id + i, "first_name": "Buyer", "last_name": f"No{i}", "country": "DE",
             "status": "active", "created_at": now, "updated_at": now, "version": 1}
            for i in range(count)]
    with engine.begin() as connection:
        connection.execute(table_of(Customer).insert(), rows)
    return [row["id"] for row in rows]


def add_orders(engine: Engine, orders: list[tuple[int, date, float]]) -> None:
    rows = [{"customer_id": customer_id, "ordered_at": at_noon(day), "amount": amount,
             "currency": "EUR", "category": "books", "channel": "web", "product": "Book",
             "quantity": 1} for customer_id, day, amount in orders]
    with engine.begin() as connection:
        connection.execute(table_of(Order).insert(), rows)


def population(engine: Engine, count: int, *, as_of: date, seed: int = 7) -> list[int]:
    """``count`` customers buying as BG/NBD says (weekly rates ~ Gamma(0.5, 2), dropout
    ~ Beta(1, 3)) for up to a year before ``as_of``, spend around 40 a purchase."""
    rng = np.random.default_rng(seed)
    ids = add_customers(engine, count)
    orders: list[tuple[int, date, float]] = []
    for customer_id in ids:
        first = as_of - timedelta(days=int(rng.integers(30, 365)))
        rate = rng.gamma(0.5, 1 / 2.0) / 7  # per day
        dropout = rng.beta(1.0, 3.0)
        day = first
        spend = rng.gamma(6.0, 40 / 6)
        while day <= as_of:
            orders.append((customer_id, day, round(float(rng.gamma(6.0, spend / 6)), 2)))
            if rng.random() < dropout or rate <= 0:
                break
            day += timedelta(days=max(1, int(rng.exponential(1 / rate))))
    add_orders(engine, orders)
    return ids
