"""The home page's overview: counts of live customers, orders and contacts, and the latest
activity, for any role that may look customers up."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from db.core.access import Actor, PermissionDenied
from db.customers.overview import database_overview
from db.customers.service import soft_delete_customer
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
