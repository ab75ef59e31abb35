"""The migrations build exactly the schema the models declare, from frozen DDL only."""

from __future__ import annotations

import ast
import re
from datetime import date

from alembic import command
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, Table, select, text
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from db.core.types import UTCDateTime
from db.demo.loader import load_demo_data
from db.derived import search_index
from db.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    include_object,
    render_frozen_type,
    upgrade,
)
from tests import factories

# What a migration may import: Alembic, SQLAlchemy and the standard library's typing aids.
FROZEN_IMPORTS = {"__future__", "alembic", "sqlalchemy", "collections", "typing"}


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_object})
        return list(compare_metadata(context, SQLModel.metadata))


def test_models_and_migrations_agree(engine: Engine) -> None:
    assert _differences(engine) == []


def test_database_is_at_head_and_upgrade_is_idempotent(engine: Engine, database_url: str) -> None:
    upgrade(database_url)
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert head == "0016_name_words"
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_migrations_import_nothing_from_the_application() -> None:
    sources = sorted(MIGRATIONS_DIR.rglob("*.py"))
    assert MIGRATIONS_DIR / "env.py" in sources and len(sources) >= 2
    for path in sources:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
        assert imported <= FROZEN_IMPORTS, (path.name, imported - FROZEN_IMPORTS)
    template = (MIGRATIONS_DIR / "script.py.mako").read_text()
    assert not re.search(r"^\s*(import|from)\s+(db|sqlmodel)\b", template, re.MULTILINE)


def test_autogenerate_writes_custom_types_as_the_types_they_store(engine: Engine) -> None:
    metadata = MetaData()
    Table("probe", metadata, Column("id", Integer, primary_key=True),
          Column("at", UTCDateTime(), nullable=False), Column("name", AutoString(length=50)),
          Column("note", AutoString()))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        operations = produce_migrations(context, metadata).upgrade_ops
    assert operations is not None
    code = render_python_code(operations, render_item=render_frozen_type)
    assert "sa.Column('at', sa.DateTime(timezone=True), nullable=False)" in code
    assert "sa.Column('name', sa.String(length=50), nullable=True)" in code
    assert "sa.Column('note', sa.String(), nullable=True)" in code
    assert "db." not in code and "sqlmodel" not in code


def test_baseline_downgrades_to_nothing_and_upgrades_again(
    engine: Engine, database_url: str
) -> None:
    command.downgrade(alembic_config(database_url), "base")
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is None
        tables = connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            if engine.dialect.name == "sqlite" else
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
    assert set(tables) == {"alembic_version"}
    upgrade(database_url)
    assert _differences(engine) == []


def test_name_words_are_filled_from_the_index_as_the_write_path_writes_them(
    engine: Engine, database_url: str
) -> None:
    """0016 cannot fold names (no application code in a migration): it splits the folded
    name the search index starts with. That must give the write path's words exactly,
    accents, several words and repeated words included; a name with a vertical bar, where
    the name's end is ambiguous, is left for the rebuild, and the check counts it."""
    load_demo_data(engine, customers=40, seed=7, as_of=date(2026, 6, 1))
    for first, last in [("José Ana", "García López"), ("Anna", "Anna-Lena  Annan")]:
        factories.customer(engine, first, last)
    barred = factories.customer(engine, "Łukasz", "Straße ｜ Olsen").id
    with engine.connect() as connection:
        written = connection.execute(select(search_index.WORDS)).all()
    assert {"jose", "lopez", "anna-lena", "annan", "|", "olsen"} <= {r.word for r in written}
    command.downgrade(alembic_config(database_url), "0015_category_buyers")
    upgrade(database_url)
    with engine.begin() as connection:
        filled = connection.execute(select(search_index.WORDS)).all()
        assert sorted(filled) == sorted(r for r in written if r.customer_id != barred)
        assert search_index.differences(connection) == 1
        search_index.rebuild(connection)
        assert search_index.differences(connection) == 0
