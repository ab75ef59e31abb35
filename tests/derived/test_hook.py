"""The one write hook: after every kind of write a service makes, the summary, the KPI tables
and the search index equal what a rebuild from the data gives."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from db.core.types import utcnow
from db.customers import profile
from db.customers.service import restore_customer, soft_delete_customer, update_customer
from db.derived import kpi_tables, search_index, summary
from tests import factories
from tests.factories import ADMIN, MANAGER


def _stale(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {"summary": summary.differences(connection),
                "search": search_index.differences(connection),
                **kpi_tables.differences(connection)}


def test_every_kind_of_write_leaves_no_derived_row_stale(engine: Engine) -> None:
    ann = factories.customer(engine, "Ann", "Lee", country="DE", city="Berlin")
    bob = factories.customer(engine, "Bob", "Ray", country="FR", email="bob@example.com")
    last_week = utcnow() - timedelta(days=7)
    factories.order(engine, ann.id, "80.00", ordered_at=last_week)
    factories.order(engine, bob.id, "25,50", channel="store")
    factories.order(engine, bob.id, "-5.50")
    call = factories.contact(engine, ann.id, at=last_week)
    profile.update_interaction(ADMIN, call.id, kind="meeting", direction="inbound",
                               subject="Visit", engine=engine)
    note = factories.contact(engine, bob.id, "Note", kind="note")
    profile.delete_interaction(ADMIN, note.id, engine=engine)
    profile.record_consent(ADMIN, bob.id, purpose="email_marketing", granted=True,
                           source="web", notice_version="v1", engine=engine)
    # A move of country takes the customer's orders to another cell of the daily tables;
    # a new name and city change what lookup finds.
    update_customer(MANAGER, ann.id, ann.version,
                    {"country": "AT", "last_name": "Lee-Park", "city": "Wien"}, engine=engine)
    soft_delete_customer(ADMIN, bob.id, engine=engine)
    assert not any(_stale(engine).values()), _stale(engine)
    restore_customer(ADMIN, bob.id, engine=engine)
    assert not any(_stale(engine).values()), _stale(engine)
