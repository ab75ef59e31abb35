"""Alembic environment: the connection ``db.migrate`` hands over, batch mode on SQLite.

It imports no application module, so the migrations stay DDL and frozen SQL. Autogenerate
(``python -m db.migrate revision``) gets the models' metadata and its hooks from
``db.migrate`` through ``config.attributes["autogenerate"]``; plain upgrades need neither.
"""

from alembic import context
from sqlalchemy import Connection, create_engine

config = context.config


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, literal_binds=True,
                      render_as_batch=bool(url and url.startswith("sqlite")))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        **config.attributes.get("autogenerate", {}),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
