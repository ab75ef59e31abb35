"""The migrations build exactly the schema the models declare."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from db.core.access import Actor
from db.customers.service import create_customer
from db.migrate import alembic_config, include_object, upgrade
from db.search.index import search_text


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_object})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_database_is_at_head_and_upgrade_is_idempotent(engine: Engine, database_url: str) -> None:
    upgrade(database_url)
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_0018_ends_every_indexed_part_so_phone_endings_can_be_found(
    engine: Engine, database_url: str
) -> None:
    customer = create_customer(Actor("ops", "admin"), {
        "first_name": "Eva", "last_name": "Steckel", "phone": "+49 157 41015619",
        "country": "DE"}, engine=engine)
    read = text("SELECT body FROM customer_search WHERE rowid = :id"
                if engine.dialect.name == "sqlite"
                else "SELECT body FROM customer_search WHERE customer_id = :id")
    with engine.connect() as connection:
        current = connection.execute(read, {"id": customer.id}).scalar_one()
    assert current == search_text(customer) and current.endswith("015741015619 |")
    command.downgrade(alembic_config(database_url), "-1")
    with engine.connect() as connection:
        assert connection.execute(read, {"id": customer.id}).scalar_one() == current[:-2]
    upgrade(database_url)
    upgrade(database_url)
    with engine.connect() as connection:
        assert connection.execute(read, {"id": customer.id}).scalar_one() == current
