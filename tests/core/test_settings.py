"""The environment, read in one place: defaults, overrides, and refusal of nonsense."""

from __future__ import annotations

import pytest

from db.core.engine import database_url
from db.core.settings import (
    DEFAULT_DEMO_CUSTOMERS,
    DEFAULT_SQLITE_PATH,
    InvalidSetting,
    Settings,
    read_settings,
)


def test_the_default_database_lives_in_the_project_data_folder() -> None:
    """``make run`` keeps the embedded database in ``data/`` beside ``pyproject.toml`` (the
    folder .gitignore leaves out), wherever the settings module sits in the package tree."""
    assert DEFAULT_SQLITE_PATH.name == "custdb.sqlite"
    assert DEFAULT_SQLITE_PATH.parent.name == "data"
    assert (DEFAULT_SQLITE_PATH.parent.parent / "pyproject.toml").is_file()


def test_an_empty_environment_gives_the_defaults() -> None:
    assert read_settings({}) == Settings(database_url=f"sqlite:///{DEFAULT_SQLITE_PATH}",
                                         cookie_key=None,
                                         demo_customers=DEFAULT_DEMO_CUSTOMERS)
    empty = {"DATABASE_URL": "", "CUSTDB_COOKIE_KEY": "", "CUSTDB_DEMO_CUSTOMERS": ""}
    assert read_settings(empty) == read_settings({})


def test_variables_override_the_defaults() -> None:
    settings = read_settings({"DATABASE_URL": "postgresql://u@h/db",
                              "CUSTDB_COOKIE_KEY": "k" * 43, "CUSTDB_DEMO_CUSTOMERS": "300"})
    assert settings == Settings("postgresql://u@h/db", "k" * 43, 300)


def test_a_changed_environment_is_seen_by_the_next_read(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///one.sqlite")
    assert database_url() == "sqlite:///one.sqlite"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///two.sqlite")
    assert read_settings().database_url == database_url() == "sqlite:///two.sqlite"


@pytest.mark.parametrize("value", ["many", "-5", "1e3"])
def test_a_demo_customer_count_that_is_no_whole_number_is_refused(value: str) -> None:
    with pytest.raises(InvalidSetting, match="CUSTDB_DEMO_CUSTOMERS"):
        read_settings({"CUSTDB_DEMO_CUSTOMERS": value})
