"""Migration 0011 fills the pick lists' vocabulary from the orders already on file."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine

from db.derived import vocabulary
from db.migrate import alembic_config, upgrade
from tests.factories import customer, order


def test_upgrading_lists_the_categories_of_the_orders_on_file(engine: Engine,
                                                               database_url: str) -> None:
    ann = customer(engine, "Ann", "Lee")
    assert ann.id is not None
    order(engine, ann.id, category="wine")
    order(engine, ann.id, "12.00", category="books")
    order(engine, ann.id, "14.00", category="wine")
    command.downgrade(alembic_config(database_url), "0009_merge")
    engine.dispose()
    upgrade(database_url)
    with engine.connect() as connection:
        assert vocabulary.values(connection, vocabulary.CATEGORY) == ["books", "wine"]
        assert vocabulary.differences(connection) == 0
