"""``python -m db.demo``: loads into DATABASE_URL, and refuses a database with customers."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from db.demo.__main__ import main
from db.migrate import alembic_config


def test_loads_then_refuses_a_second_load(database_url: str, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["--customers", "40", "--seed", "3", "--as-of", "2026-06-01"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("Loaded 40 customers, ") and "40 of 40 customers" in out.err
    assert main(["--customers", "40"]) == 2
    assert "already holds 40 customers" in capsys.readouterr().err


def test_a_database_of_squashed_migrations_is_refused_with_what_to_do(
        engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0007'"))
    try:
        assert main(["--customers", "10"]) == 1
        assert "'0007'" in capsys.readouterr().err
    finally:  # PostgreSQL: the session's database is shared by the tests that follow
        head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"),
                               {"head": head})
