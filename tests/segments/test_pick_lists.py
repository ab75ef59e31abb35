"""The builder's category pick list comes from the ``vocabulary`` table the write path keeps,
not from a scan of every order: after each kind of write it lists exactly the categories the
orders hold."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from db.core.sql import table_of
from db.demo.loader import load_demo_data
from db.derived import vocabulary
from db.derived.models import Vocabulary
from db.imports.engine import commit
from db.models import Order
from db.privacy.erasure import erase_customer
from db.quality.merge import merge_customers, merge_plan
from db.segments.preview import field_options
from tests.factories import ADMIN, MARKETING, customer, order
from tests.imports.test_engine import request


def _in_orders(engine: Engine) -> list[str]:
    category = table_of(Order).c.category
    with engine.connect() as connection:
        return [value for value in connection.execute(
            select(category).distinct().order_by(category)).scalars() if value]


def test_the_country_pick_list_holds_every_country_once(engine: Engine) -> None:
    for country in ("DE", "AT", "DE", "FR"):
        customer(engine, country=country)
    assert field_options(MARKETING, engine=engine)["country"] == ["AT", "DE", "FR"]


def _offered(engine: Engine) -> list[str]:
    return field_options(MARKETING, engine=engine)["category"]


def test_each_kind_of_write_keeps_the_category_pick_list(engine: Engine) -> None:
    assert _offered(engine) == []
    ann = customer(engine, "Ann", "Lee", email="ann@example.org")
    bob = customer(engine, "Bob", "Lee")
    assert ann.id is not None and bob.id is not None
    order(engine, ann.id, category="books")
    order(engine, bob.id, category="wine")
    order(engine, bob.id, category="books")
    assert _offered(engine) == _in_orders(engine) == ["books", "wine"]

    imported = commit(ADMIN, request("orders", "email,ordered_at,amount,category\n"
                                     "ann@example.org,2026-11-02,9.99,garden\n",
                                     encoding="utf-8"), engine=engine)
    assert imported.new == 1
    assert _offered(engine) == _in_orders(engine) == ["books", "garden", "wine"]

    plan = merge_plan(ADMIN, ann.id, bob.id, engine=engine)
    merge_customers(ADMIN, survivor_id=ann.id, merged_id=bob.id,
                    survivor_version=plan.survivor_version,
                    merged_version=plan.merged_version, engine=engine)
    erase_customer(ADMIN, ann.id, confirmation=str(ann.id), engine=engine)
    assert _offered(engine) == _in_orders(engine)


def test_the_demo_loader_and_the_rebuild_keep_it(engine: Engine) -> None:
    load_demo_data(engine, customers=40, seed=5, as_of=date(2026, 6, 1))
    assert _offered(engine) == _in_orders(engine) != []
    with engine.begin() as connection:
        connection.execute(table_of(Vocabulary).delete())
        assert vocabulary.differences(connection) > 0
        vocabulary.rebuild(connection)
        assert vocabulary.differences(connection) == 0
    assert _offered(engine) == _in_orders(engine)
