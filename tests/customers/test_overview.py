"""The home page's overview: counts of live customers, orders and contacts, and the latest
activity, for any role that may look customers up."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from db.core.access import Actor, PermissionDenied
from db.core.sql import table_of
from db.customers.overview import database_overview
from db.customers.service import soft_delete_customer
from db.models import Customer, Interaction, Order
from db.privacy.erasure import erase_customer
from tests import factories
from tests.factories import ADMIN, MARKETING


def test_counts_leave_out_deleted_customers(engine: Engine) -> None:
    assert database_overview(MARKETING, engine=engine).customers == 0
    kept, gone = factories.customer(engine, "Kept"), factories.customer(engine, "Gone")
    order = factories.order(engine, kept.id, "12.00")
    factories.contact(engine, gone.id)
    soft_delete_customer(ADMIN, gone.id, engine=engine)
    overview = database_overview(MARKETING, engine=engine)
    assert (overview.customers, overview.orders, overview.interactions) == (1, 1, 1)
    assert overview.last_order_at == order.ordered_at


def test_a_role_without_lookup_is_refused(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        database_overview(Actor("x", "nobody"), engine=engine)


def test_counts_equal_a_direct_count_of_the_operational_rows(engine: Engine) -> None:
    """Whatever the overview reads, its counts mean what a direct count of the rows says:
    live customers; orders of zero or more of every customer (soft-deleted and erased ones
    included, as the KPI page counts them), refunds apart; every contact."""
    live, no_orders = factories.customer(engine, "Live"), factories.customer(engine, "Idle")
    deleted, erased = factories.customer(engine, "Deleted"), factories.customer(engine, "Erased")
    for who, amounts in ((live.id, ("12.00", "0.00", "-5.00")), (deleted.id, ("7.00",)),
                         (erased.id, ("3.00", "-3.00"))):
        for amount in amounts:
            factories.order(engine, who, amount)
    for number, who in enumerate((live.id, deleted.id, erased.id, erased.id)):
        factories.contact(engine, who, f"Contact {number}")
    soft_delete_customer(ADMIN, deleted.id, engine=engine)
    erase_customer(ADMIN, erased.id, confirmation=str(erased.id), engine=engine)
    assert no_orders.id is not None
    customers, orders, interactions = (table_of(model).c
                                       for model in (Customer, Order, Interaction))
    with engine.connect() as connection:
        expected = connection.execute(select(
            select(func.count()).where(customers.deleted_at.is_(None),
                                       customers.erased_at.is_(None),
                                       customers.merged_into_id.is_(None)).scalar_subquery(),
            select(func.count()).where(orders.amount >= 0).scalar_subquery(),
            select(func.count(interactions.id)).scalar_subquery(),
            select(func.max(orders.ordered_at)).scalar_subquery(),
            select(func.max(customers.updated_at)).scalar_subquery())).one()
    overview = database_overview(MARKETING, engine=engine)
    assert expected[:3] == (2, 4, 4)
    assert (overview.customers, overview.orders, overview.interactions,
            overview.last_order_at, overview.last_customer_change_at) == tuple(expected)
