"""The KPI and home pages' cache key (:func:`db.kpi.board.data_version`): it moves with every
write that changes what the pages show, and stays put for the events that change nothing
there (sign-ins, sign-outs, exports), which used to empty the pages' caches at every sign-in."""

from __future__ import annotations

from sqlalchemy import Engine, select

from db.customers.service import restore_customer, soft_delete_customer, update_customer
from db.imports.engine import commit
from db.kpi.board import data_version
from db.models import Customer
from db.privacy.erasure import erase_customer
from db.quality.merge import merge_customers, merge_plan
from db.segments import service as segments
from db.segments.definition import Condition, Group
from db.users.service import authenticate, record_logout
from tests.factories import ADMIN, customer, order, user
from tests.imports.test_engine import request


def _version_of(engine: Engine, customer_id: int) -> int:
    with engine.connect() as connection:
        return connection.execute(select(Customer.version).where(
            Customer.id == customer_id)).scalar_one()


def test_signing_in_and_out_leaves_the_version(engine: Engine) -> None:
    customer(engine, "Ann", "Lee")
    user(engine, "sam", "manager", password="a long test password 1")
    before = data_version(engine=engine)
    assert authenticate("sam", "a long test password 1", engine=engine) is not None
    assert authenticate("sam", "a wrong password here", engine=engine) is None
    record_logout("sam", engine=engine)
    assert data_version(engine=engine) == before


def test_every_write_the_pages_show_moves_the_version(engine: Engine) -> None:
    ann = customer(engine, "Ann", "Lee", email="ann@example.org")
    bob = customer(engine, "Bob", "Lee")
    customer(engine, "Dan", "Park", external_ref="K-1")
    assert ann.id is not None and bob.id is not None
    order(engine, ann.id)
    seen = [data_version(engine=engine)]

    def moved() -> bool:
        seen.append(data_version(engine=engine))
        return seen[-1] != seen[-2]

    update_customer(ADMIN, ann.id, _version_of(engine, ann.id), {"city": "Bonn"},
                    engine=engine)
    assert moved(), "a customer edit"
    order(engine, ann.id, "25.00")
    assert moved(), "an order"
    soft_delete_customer(ADMIN, bob.id, engine=engine)
    assert moved(), "a soft delete"
    restore_customer(ADMIN, bob.id, engine=engine)
    assert moved(), "a restore"
    segments.save_segment(ADMIN, name="Germany", description=None, kind="dynamic",
                          definition=Group(children=[
                              Condition(field="country", op="eq", value="DE")]),
                          engine=engine)
    assert moved(), "a saved segment (the KPI page's segment filter)"
    plan = merge_plan(ADMIN, ann.id, bob.id, engine=engine)
    merge_customers(ADMIN, survivor_id=ann.id, merged_id=bob.id,
                    survivor_version=plan.survivor_version,
                    merged_version=plan.merged_version, engine=engine)
    assert moved(), "a merge"
    erase_customer(ADMIN, ann.id, confirmation=str(ann.id), engine=engine)
    assert moved(), "an erasure"
    imported = commit(ADMIN, request(
        "customers", "customer_ref,first_name,last_name,country,city\nK-1,Dan,Park,DE,Köln\n",
        encoding="utf-8"), engine=engine)
    assert imported.updated == 1
    assert moved(), "an import that only updates"
