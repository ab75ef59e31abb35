"""First-run setup: demo users and data into an empty database, nothing on later runs, and
a database at the head of the migrations squashed into the baseline adopted with its data,
and a clear refusal for one part-way along them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, make_url, text
from sqlmodel import Session, func, select

from db.migrate import alembic_config
from db.models import Customer, User
from db.setup import DEMO_USERS, main, setup
from db.users.service import authenticate


def _head(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def test_setup_fills_an_empty_database_once(engine: Engine, database_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    report = setup(demo_customers=50)
    assert any("demo users" in line for line in report)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 50
        roles = set(session.exec(select(User.role)))
    assert roles == {"admin", "manager", "marketing"}
    for username, _, role, password in DEMO_USERS:
        user = authenticate(username, password, engine=engine)
        assert user is not None and user.role == role

    assert setup(demo_customers=50) == []  # second run: nothing added
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 50


def test_setup_leaves_a_database_of_the_old_migrations_alone_and_says_what_to_do(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A database part-way along the migrations squashed into the baseline (here "0017")
    may hold real data: setup changes nothing, names the way out and fails."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CUSTDB_DEMO_CUSTOMERS", "20")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0017'"))
    engine.dispose()
    path = make_url(database_url).database if engine.dialect.name == "sqlite" else None
    before = Path(path).read_bytes() if path else b""
    try:
        assert main() == 1
        message = capsys.readouterr().err
        assert "'0017'" in message and "Nothing was changed" in message
        if path:
            resolved = Path(path).resolve()
            assert f"mv {resolved} {resolved}.old" in message and "make run" in message
            assert Path(path).read_bytes() == before
        else:
            assert "DATABASE_URL" in message and "empty database" in message
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(User)).one() == 0
            assert session.exec(select(func.count()).select_from(Customer)).one() == 0
            assert session.exec(text("SELECT version_num FROM alembic_version")).one() == (
                "0017",)
    finally:  # PostgreSQL: the session's database is shared by the tests that follow
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"),
                               {"head": _head(database_url)})


def test_a_database_at_the_squashed_head_is_adopted_with_its_data(
        engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The old head "0018" has the baseline's schema: setup re-stamps it and keeps what it
    holds (here the demo users and customers of an earlier run)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    setup(demo_customers=30)
    # Back to the baseline's schema (what 0018 built), then stamped as the old chain's head.
    command.downgrade(alembic_config(database_url), "0001_baseline")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0018'"))
    assert main() == 0
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 30
        assert session.exec(text("SELECT version_num FROM alembic_version")).all() == [
            (_head(database_url),)]
