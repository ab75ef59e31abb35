"""The daily tables (sales sums, who ordered): what the write path keeps equals what a
rebuild computes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from db.core.access import PermissionDenied
from db.customers import orders, profile
from db.customers.service import (
    CustomerNotFound,
    soft_delete_customer,
    update_customer,
)
from db.customers.validation import InvalidFields
from db.demo.loader import load_demo_data
from db.derived import buyer_cells, kpi_tables, month_cells, sales_cells
from db.derived.models import CustomerSummary
from db.models import INTERACTION_KINDS, ORDER_CHANNELS, AuditEvent
from tests import factories
from tests.factories import ADMIN, MARKETING

COLUMNS = sales_cells.KEY + sales_cells.MEASURES


def _stored(engine: Engine) -> list[tuple]:
    """daily_sales rows, key then measures, in key order."""
    with engine.connect() as connection:
        return sorted(key + values for key, values in
                      sales_cells.SALES_CELLS.stored(connection).items())


def _everything(engine: Engine) -> dict:
    """Every KPI table's contents."""
    with engine.connect() as connection:
        tables = {table.table.name: table.stored(connection) for table in kpi_tables.SUMMED}
        tables["daily_customers"] = buyer_cells.stored(connection)
        tables["monthly_customers"] = buyer_cells.stored(connection,
                                                             buyer_cells.MONTHLY)
        tables["weekly_customers"] = buyer_cells.stored_weeks(connection)
    return tables


def _rebuilt(engine: Engine) -> dict:
    with engine.begin() as connection:
        kpi_tables.rebuild(connection)
    return _everything(engine)


def test_demo_load_writes_the_tables_a_rebuild_computes(engine: Engine) -> None:
    load_demo_data(engine, customers=400, seed=3, as_of=date(2026, 6, 1))
    loaded = _everything(engine)
    sales = _stored(engine)
    assert sum(row[4] for row in sales) > 1000  # orders were summed
    assert sum(row[5] for row in sales) > 0  # and refunds
    assert all(loaded[name] for name in loaded)  # every table has rows
    # Every customer with an order is a newcomer on exactly one day.
    newcomers = [customer for (_, _, kind), ids in loaded["daily_customers"].items()
                 if kind == "newcomers" for customer in ids]
    with engine.connect() as connection:
        buyers = connection.execute(select(func.count()).select_from(CustomerSummary).where(
            CustomerSummary.order_count > 0)).scalar_one()
        assert not any(kpi_tables.differences(connection).values())
    assert len(newcomers) == len(set(newcomers)) == buyers > 100
    recency = loaded["customer_recency"]
    assert sum(customers for customers, _ in recency.values()) == buyers
    assert _rebuilt(engine) == loaded


def test_service_writes_keep_every_table_current(engine: Engine) -> None:
    """A random workload of orders, refunds, same-moment ties, contacts, country changes and
    a deletion, then a rebuild changes nothing."""
    rng = random.Random(11)
    ids = [factories.customer(engine, f"P{index}").id for index in range(5)]
    versions = dict.fromkeys(ids, 1)
    start = datetime(2026, 1, 30, tzinfo=UTC)  # the days span two months
    for step in range(70):
        customer_id = rng.choice(ids[:4])
        choice = rng.random()
        if choice < 0.15:
            country = rng.choice(["DE", "AT", "FR"])
            saved = update_customer(ADMIN, customer_id, versions[customer_id],
                                    {"country": country}, engine=engine)
            versions[customer_id] = saved.version
            continue
        # Whole hours over a few days: ties on a moment and on a day are common.
        at = start + timedelta(hours=rng.randint(0, 96))
        if choice < 0.3:
            profile.log_interaction(ADMIN, customer_id, kind=rng.choice(INTERACTION_KINDS),
                                    subject=f"contact {step}", at=at, engine=engine)
            continue
        amount = rng.choice(["19.99", "0.00", "-5.00", "120.10", "0.01"])
        orders.record_order(ADMIN, customer_id, amount=amount,
                            category=rng.choice(["books", "wine"]),
                            channel=rng.choice(ORDER_CHANNELS), product=f"item {step}",
                            ordered_at=at, engine=engine)
        if step == 50:
            soft_delete_customer(ADMIN, ids[0], engine=engine)
            ids.remove(ids[0])
    kept = _everything(engine)
    assert sum(row[4] + row[5] for row in _stored(engine)) > 40
    assert {kind for _, _, kind in kept["daily_customers"]} == set(buyer_cells.KINDS)
    assert kept["daily_interactions"] and kept["customer_recency"]
    assert _rebuilt(engine) == kept


def test_a_cell_counts_cents_refunds_and_the_first_order(engine: Engine) -> None:
    customer_id = factories.customer(engine, "Cent").id
    at = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    for amount in ("0.10", "0.20", "-0.10"):
        orders.record_order(ADMIN, customer_id, amount=amount, category="books",
                            channel="web", product="p", ordered_at=at, engine=engine)
    orders.record_order(ADMIN, customer_id, amount="5", category="books", channel="web",
                        product="p", ordered_at=at + timedelta(seconds=1), engine=engine)
    assert _stored(engine) == [(date(2026, 3, 31), "DE", "web", "books", 2, 1, 20, 1),
                               (date(2026, 4, 1), "DE", "web", "books", 1, 0, 500, 0)]
    with engine.connect() as connection:
        # Spend before refunds, per UTC month.
        assert month_cells.MONTH_CELLS.stored(connection) == {
            (customer_id, date(2026, 3, 1)): (30,), (customer_id, date(2026, 4, 1)): (500,)}
        if connection.dialect.name == "postgresql":  # days stay UTC whatever the session's zone
            connection.exec_driver_sql("SET TIME ZONE 'Pacific/Kiritimati'")
        days = sorted(row.day for row in connection.execute(sales_cells.cells()))
        assert days == [date(2026, 3, 31), date(2026, 4, 1)]
        months = sorted(row.month for row in connection.execute(month_cells.month_cells()))
        assert months == [date(2026, 3, 1), date(2026, 4, 1)]
        logged = connection.execute(select(AuditEvent.changes).where(
            AuditEvent.action == "order.record")).scalars().all()
        assert len(logged) == 4 and '"amount": "-0.10"' in logged[2]


def test_a_country_change_moves_the_cells_and_empties_none(engine: Engine) -> None:
    customer_id = factories.customer(engine, "Mover", country="DE").id
    orders.record_order(ADMIN, customer_id, amount="10", category="books", channel="web",
                        product="p", ordered_at=datetime(2026, 3, 1, tzinfo=UTC), engine=engine)
    update_customer(ADMIN, customer_id, 1, {"country": "AT"}, engine=engine)
    assert [row[:2] for row in _stored(engine)] == [(date(2026, 3, 1), "AT")]


def test_record_order_refuses_bad_input_and_writes_nothing(engine: Engine) -> None:
    customer_id = factories.customer(engine, "Careful").id
    with pytest.raises(InvalidFields) as refused:
        orders.record_order(ADMIN, customer_id, amount="12.345", category=" ", channel="fax",
                            product="", quantity=0,
                            ordered_at=datetime.now(UTC) + timedelta(days=1), engine=engine)
    assert set(refused.value.errors) == {"amount", "category", "channel", "product",
                                         "quantity", "ordered_at"}
    with pytest.raises(InvalidFields, match="number"):
        orders.record_order(ADMIN, customer_id, amount="ten", category="books",
                            channel="web", product="p", engine=engine)
    with pytest.raises(InvalidFields, match="too large"):
        orders.record_order(ADMIN, customer_id, amount=Decimal("1e12"), category="books",
                            channel="web", product="p", engine=engine)
    with pytest.raises(PermissionDenied):
        orders.record_order(MARKETING, customer_id, amount="1", category="books",
                            channel="web", product="p", engine=engine)
    soft_delete_customer(ADMIN, customer_id, engine=engine)
    with pytest.raises(CustomerNotFound):
        orders.record_order(ADMIN, customer_id, amount="1", category="books", channel="web",
                            product="p", engine=engine)
    assert _stored(engine) == []


def test_a_rebuild_with_no_repeat_buyer_equals_the_write_path(engine: Engine) -> None:
    """A kind no order falls into (nobody ordered twice on a day) makes no cells: the
    rebuild once read the first key of an empty run and failed."""
    customer_id = factories.customer(engine, "Once").id
    orders.record_order(ADMIN, customer_id, amount="12.50", category="books", channel="web",
                        product="p", ordered_at=datetime(2026, 5, 4, 10, tzinfo=UTC),
                        engine=engine)
    incremental = _everything(engine)
    assert _rebuilt(engine) == incremental
