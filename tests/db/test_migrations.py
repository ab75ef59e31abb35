"""The migrations build exactly the schema the models declare, from frozen DDL only."""

from __future__ import annotations

import ast
import re
import unicodedata
from datetime import date

import pytest
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
    assert head == "0020_name_vocabulary"
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


def _fold_before_0017(value: str) -> str:
    """What the application's folding was before letters were spelt out (frozen here)."""
    value = search_index.visible(value)
    value = value.replace("ł", "l").replace("Ł", "L").replace("ß", "ss").replace("ø", "o")
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def test_names_folded_before_letters_were_spelt_out_are_folded_as_the_write_path_folds(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0017 cannot fold (no application code in a migration): it spells out the stored
    name and city. That must give what the write path writes now, with the e-mail and
    reference left as typed; a name with a vertical bar is left for the rebuild."""
    load_demo_data(engine, customers=20, seed=7, as_of=date(2026, 6, 1))
    for first, last, fields in [
            ("Søren", "Østergaard", {"city": "Ærøskøbing", "external_ref": "ØRS-Æ1",
                                     "email": "soren@example.dk", "phone": "+45 32 12 34 56"}),
            ("Bo", "Bø Ørsted", {}), ("Đorđe", "Đurić", {"city": "Đakovo"}),
            ("ÞÓRA", "Œuvray", {"external_ref": "Œ-7"})]:
        factories.customer(engine, first, last, **fields)
    barred = factories.customer(engine, "Øystein", "Lie ｜ Ås").id
    def rows() -> tuple[list[object], list[object]]:
        table = search_index.bulk_table(engine.dialect.name)
        with engine.connect() as connection:
            return (sorted(connection.execute(select(table)).all()),
                    sorted(connection.execute(select(search_index.WORDS)).all()))
    written = rows()
    monkeypatch.setattr(search_index, "_fold_any", _fold_before_0017)
    search_index.fold_name.cache_clear()
    with engine.begin() as connection:
        search_index.rebuild(connection)  # the index as the old folding wrote it
    monkeypatch.undo()
    search_index.fold_name.cache_clear()
    old = rows()
    assert any("østergaard" in row[1] and "ørs-æ1" in row[1] for row in old[0])
    command.downgrade(alembic_config(database_url), "0016_name_words")  # 0017 undoes nothing
    upgrade(database_url)
    bodies, words = rows()
    barred_body = {row[0]: row[1] for row in written[0]}[barred]
    assert [row for row in bodies if row[0] != barred] == [
        row for row in written[0] if row[0] != barred]
    assert [row for row in words if row[1] != barred] == [
        row for row in written[1] if row[1] != barred]
    assert "ørs-æ1" in next(row[1] for row in bodies if "ostergaard" in row[1])
    assert {row[0]: row[1] for row in bodies}[barred] != barred_body  # left as it was
    with engine.begin() as connection:
        assert search_index.differences(connection) == 1
        search_index.rebuild(connection)
        assert search_index.differences(connection) == 0


def test_index_rows_get_the_names_the_write_path_writes(engine: Engine,
                                                         database_url: str) -> None:
    """0018 copies each customer's names into PostgreSQL's index rows, as the write path
    now writes them; downgraded and upgraded again, the index is as written and the check
    finds nothing to rebuild. SQLite's index is left as it was."""
    load_demo_data(engine, customers=30, seed=7, as_of=date(2026, 6, 1))
    factories.customer(engine, "José Ana", "García ｜ López")
    table = search_index.bulk_table(engine.dialect.name)
    with engine.connect() as connection:
        written = sorted(connection.execute(table.select()).all())
    assert all(len(row) == (2 if engine.dialect.name == "sqlite" else 4) for row in written)
    command.downgrade(alembic_config(database_url), "0017_spelt_out_letters")
    upgrade(database_url)
    with engine.begin() as connection:
        assert sorted(connection.execute(table.select()).all()) == written
        assert search_index.differences(connection) == 0
        if engine.dialect.name == "postgresql":  # a stale name is found as a stale text is
            connection.execute(table.update().where(table.c[0] == written[0][0])
                               .values(first_name="Stale"))
            assert search_index.differences(connection) == 1


def test_name_word_key_holds_the_names_on_postgresql(engine: Engine, database_url: str) -> None:
    """0019 includes the names in PostgreSQL's name-word key, so a range of words is read
    from the key alone; downgraded, the key is the two columns again. SQLite's table is its
    key already, and the migration leaves it as it is."""
    def key() -> str:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                return connection.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = 'customer_name_word'").scalar_one()
            return connection.exec_driver_sql(
                "SELECT pg_get_indexdef('pk_customer_name_word'::regclass)").scalar_one()

    at_head = key()
    command.downgrade(alembic_config(database_url), "0018_index_names")
    before = key()
    upgrade(database_url)
    assert key() == at_head
    if engine.dialect.name == "sqlite":
        assert before == at_head and "WITHOUT ROWID" in at_head
    else:
        assert at_head.endswith("(word, customer_id) INCLUDE (first_name, last_name)")
        assert before.endswith("(word, customer_id)")


def test_the_name_vocabulary_is_filled_with_each_name_word_once(
        engine: Engine, database_url: str) -> None:
    """0020 fills the vocabulary from the name words already written: the write path's
    vocabulary exactly, which the derived tables' check then finds in step."""
    load_demo_data(engine, customers=40, seed=7, as_of=date(2026, 6, 1))
    factories.customer(engine, "Anna", "Anna-Lena  Annan")
    with engine.connect() as connection:
        written = set(connection.execute(select(search_index.VOCABULARY)).scalars())
    assert {"anna", "anna-lena", "annan"} <= written
    command.downgrade(alembic_config(database_url), "0019_name_words_covering")
    upgrade(database_url)
    with engine.begin() as connection:
        assert set(connection.execute(select(search_index.VOCABULARY)).scalars()) == written
        assert search_index.differences(connection) == 0
