"""The Database panel's facts, on both engines: counts equal real counts, the schema revision
is the code's head, the newest backup is found, and the audit chain is checked on request."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, table, text
from sqlmodel import SQLModel

from db.backup import facts
from db.backup.copy import back_up
from db.backup.facts import check_audit_chain, database_facts
from db.core.access import PermissionDenied
from db.customers.profile import set_tags
from db.derived.search_index import TABLE as SEARCH_TABLE
from db.migrate import MIGRATIONS_DIR, alembic_config
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING


def _fill(engine: Engine) -> None:
    for n in range(4):
        customer = factories.customer(engine, f"First{n}", f"Last{n}",
                                      email=f"person{n}@example.com")
        assert customer.id is not None
        factories.order(engine, customer.id, "12.50")
        factories.contact(engine, customer.id)
        set_tags(ADMIN, customer.id, ["vip"], engine=engine)


def test_facts_count_every_table_exactly(engine: Engine) -> None:
    _fill(engine)
    found = database_facts(ADMIN, engine=engine)
    counted = {row.name: row.rows for row in found.tables}
    expected = {t.name for t in SQLModel.metadata.sorted_tables} | {SEARCH_TABLE}
    assert expected <= set(counted)
    assert not any(name.startswith(SEARCH_TABLE + "_") or name == "alembic_version"
                   for name in counted)
    with engine.connect() as connection:
        real = {name: connection.execute(select(func.count()).select_from(table(name)))
                .scalar_one() for name in counted}
    assert counted == real
    assert all(row.exact for row in found.tables)
    assert counted["customer"] == counted[SEARCH_TABLE] == 4
    assert counted["orders"] == 4 and counted["audit_event"] > 0


def test_facts_name_the_engine_size_and_revision(engine: Engine) -> None:
    found = database_facts(ADMIN, engine=engine)
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_heads() == heads
    assert found.heads == tuple(heads) and found.revision in heads and found.schema_current
    assert found.size > 0
    assert "***" not in found.location and "password" not in found.location
    if engine.dialect.name == "sqlite":
        assert found.engine == "SQLite" and found.version.startswith("3.")
        path = Path(found.location)
        assert found.size == path.stat().st_size + (
            os.path.getsize(f"{path}-wal") if os.path.exists(f"{path}-wal") else 0)
        assert found.backup_folder == path.parent / "backups"
    else:
        assert found.engine == "PostgreSQL" and found.version[0].isdigit()
        assert found.backup_folder is None and found.newest_backup is None


def test_an_old_revision_is_not_current(engine: Engine) -> None:
    with engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(text("UPDATE alembic_version SET version_num = '0001_baseline'"))
    try:
        found = database_facts(ADMIN, engine=engine)
        assert found.revision == "0001_baseline"
        assert found.schema_current is (found.heads == ("0001_baseline",))
    finally:  # PostgreSQL's test database is shared by the session: leave it at head
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"),
                               {"head": head})


def test_large_postgresql_tables_show_the_planners_estimate(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    _fill(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE customer"))
    monkeypatch.setattr(facts, "EXACT_BELOW", 1)
    rows = {row.name: row for row in database_facts(ADMIN, engine=engine).tables}
    assert (rows["customer"].rows, rows["customer"].exact) == (4, False)  # reltuples, "about"
    assert rows["segment"].exact  # never analysed: reltuples -1, counted


def test_newest_backup_is_found(engine: Engine, tmp_path: Path) -> None:
    assert database_facts(ADMIN, engine=engine, backup_folder=tmp_path).newest_backup is None
    if engine.dialect.name != "sqlite":
        return
    first = back_up(ADMIN, engine=engine, folder=tmp_path)
    second = back_up(ADMIN, engine=engine, folder=tmp_path)
    os.utime(first, (1, 1))
    newest = database_facts(ADMIN, engine=engine, backup_folder=tmp_path).newest_backup
    assert newest is not None
    assert (newest.path, newest.size) == (second, second.stat().st_size)


def test_audit_chain_is_checked_on_request(engine: Engine) -> None:
    _fill(engine)
    status = check_audit_chain(ADMIN, engine=engine)
    assert status.ok and not status.could_not_judge
    assert status.message.startswith("The chain is intact:")


@pytest.mark.parametrize("actor", [MANAGER, MARKETING])
def test_facts_and_chain_are_refused_for_non_admins(engine: Engine, actor: object) -> None:
    with pytest.raises(PermissionDenied):
        database_facts(actor, engine=engine)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        check_audit_chain(actor, engine=engine)  # type: ignore[arg-type]
