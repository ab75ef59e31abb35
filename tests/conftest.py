"""Fixtures shared by the whole suite.

Every test that takes ``engine`` runs once on SQLite and, when ``TEST_DATABASE_URL`` names a
PostgreSQL server, once more on PostgreSQL. Both start from the schema the migrations build:
SQLite copies a migrated template file, PostgreSQL empties the tables of a database this
session created (and drops at the end).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url
from sqlmodel import SQLModel

# The model modules register the tables.
import db.admin.models
import db.derived.models
import db.imports.models
import db.models
import db.quality.models  # noqa: F401
from db.core.engine import make_engine, normalise_url
from db.migrate import upgrade
from db.users import passwords

PG_URL = os.environ.get("TEST_DATABASE_URL")
ENGINES = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
# bcrypt's cost factor as the tests hash passwords: at the production cost (12) a hash takes a
# quarter to half a second, and each page test creates three users and signs one in, which
# made up a third of the suite's time. A hash carries its cost, so checking follows it; the
# production cost, as the module sets it, is asserted in tests/users/test_passwords.py.
TEST_BCRYPT_ROUNDS = 4
PRODUCTION_BCRYPT_ROUNDS = passwords.BCRYPT_ROUNDS


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    patch.setattr(passwords, "BCRYPT_ROUNDS", TEST_BCRYPT_ROUNDS)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied for each test (faster than migrating each)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    assert PG_URL, "TEST_DATABASE_URL is not set"
    name = f"custdb_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as connection:
        connection.exec_driver_sql("CREATE DATABASE " + quoted)
    url = make_url(normalise_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql("DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE)")
    admin.dispose()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database of each engine under test."""
    if request.param == "sqlite":
        path = tmp_path / "custdb.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_database_url")
    engine = create_engine(url)
    quote = engine.dialect.identifier_preparer.quote
    tables = ", ".join(quote(table.name) for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        # Replica mode skips the trigger that guards the append-only audit table.
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.exec_driver_sql("TRUNCATE " + tables + " RESTART IDENTITY CASCADE")
    engine.dispose()
    yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine with the app's settings on an empty, migrated database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
