"""Histories read from the database: the SQL aggregate against its pandas twin, and the
edge customers each with a defined history."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select

from db.core.sql import table_of
from db.models import Order
from db.predict.histories import Kind, histories_from_orders, read_histories
from tests.factories import customer, order
from tests.predict.conftest import at_noon, population

AS_OF = date(2026, 11, 30)


def _ordered(day: date, hour: int = 12) -> datetime:
    return at_noon(day).replace(hour=hour)


def test_edge_customers_get_defined_histories(engine: Engine) -> None:
    none = customer(engine, "No", "Orders").id
    refunds = customer(engine, "Only", "Refunds").id
    order(engine, refunds, "-20.00", ordered_at=_ordered(date(2026, 10, 1)))
    one = customer(engine, "One", "Order").id
    order(engine, one, "30.00", ordered_at=_ordered(date(2026, 9, 1)))
    same_day = customer(engine, "Same", "Day").id
    for hour, amount in ((9, "10.00"), (15, "25.00"), (23, "5.00")):
        order(engine, same_day, amount, ordered_at=_ordered(date(2026, 8, 2), hour))
    repeat = customer(engine, "Repeat", "Buyer").id
    for day, amount in ((date(2026, 1, 5), "50.00"), (date(2026, 3, 2), "20.00"),
                        (date(2026, 3, 2), "10.00"), (date(2026, 6, 1), "60.00"),
                        (date(2026, 7, 1), "-15.00")):
        order(engine, repeat, amount, ordered_at=_ordered(day))
    future = customer(engine, "Later", "Buyer").id  # bought only after as_of
    order(engine, future, "40.00", ordered_at=_ordered(date(2026, 12, 1)))
    gone = customer(engine, "Soft", "Deleted").id
    order(engine, gone, "40.00", ordered_at=_ordered(date(2026, 5, 1)))
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE customer SET deleted_at = updated_at WHERE id = " + str(int(gone)))

    found = read_histories(engine, as_of=AS_OF, unit="weeks")
    by_id = {int(i): n for n, i in enumerate(found.customer_id)}
    assert gone not in by_id  # deleted customers are not scored

    def history(customer_id: int) -> tuple[int, float, float, float, float]:
        n = by_id[customer_id]
        return (int(found.kind[n]), float(found.x[n]), float(found.t_x[n]),
                float(found.T[n]), float(found.m[n]))

    assert history(none) == (Kind.NO_ORDERS, 0, 0, 0, 0)
    assert history(refunds) == (Kind.REFUNDS_ONLY, 0, 0, 0, 0)
    assert history(future) == (Kind.NO_ORDERS, 0, 0, 0, 0)
    assert history(one) == pytest.approx((Kind.ONE_PURCHASE, 0, 0, 90 / 7, 0))
    assert history(same_day) == pytest.approx((Kind.ONE_PURCHASE, 0, 0, 120 / 7, 0))
    # Purchase days 5 Jan, 2 Mar (two orders, 30.00), 1 Jun; the refund is no purchase.
    assert history(repeat) == pytest.approx(
        (Kind.REPEAT, 2, 147 / 7, 329 / 7, (30.0 + 60.0) / 2))


def test_the_sql_aggregate_equals_its_pandas_twin(engine: Engine) -> None:
    population(engine, 60, as_of=AS_OF)
    order_table = table_of(Order).c
    with engine.connect() as connection:
        rows = connection.execute(select(order_table.customer_id, order_table.ordered_at,
                                         order_table.amount)).all()
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    frame["day"] = pd.to_datetime(frame["day"], utc=True).dt.tz_localize(None)
    frame["amount"] = frame["amount"].astype(float)
    for unit in ("days", "weeks"):
        from_sql = read_histories(engine, as_of=AS_OF - timedelta(days=20), unit=unit)
        twin = histories_from_orders(frame, as_of=AS_OF - timedelta(days=20), unit=unit,
                                     customer_ids=from_sql.customer_id)
        assert np.array_equal(from_sql.customer_id, twin.customer_id)
        assert np.array_equal(from_sql.kind, twin.kind)
        for name in ("x", "t_x", "T", "m"):
            assert np.allclose(getattr(from_sql, name), getattr(twin, name)), name
