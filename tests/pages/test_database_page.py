"""The Database page (admin): facts, backing up (or the pg_dump command), the audit chain."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from db.backup import copy, facts
from db.core import background
from tests import factories
from tests.audit.conftest import AUDIT_KEY
from tests.pages.conftest import ROOT
from tests.pages.cut import cut_after

DATABASE_PAGE = str(ROOT / "pages" / "database.py")


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTDB_AUDIT_KEY", AUDIT_KEY)


def _open(signed_in: Callable[[str], AppTest], role: str) -> AppTest:
    at = signed_in(role)
    at.switch_page(DATABASE_PAGE).run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def _backups_folder(app_db: Engine) -> Path:
    assert app_db.url.database
    return Path(app_db.url.database).parent / "backups"


def test_admin_sees_the_facts(signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    factories.customer(app_db, "Ada", "Lovelace")
    at = _open(signed_in, "admin")
    metrics = {m.label: m.value for m in at.metric}
    engine = "SQLite" if app_db.dialect.name == "sqlite" else "PostgreSQL"
    assert metrics["Engine"].startswith(engine)
    assert metrics["Schema revision"]
    rows = at.dataframe[0].value.set_index("Table")["Rows"]
    assert rows["customer"] == rows["customer_search"] == 1
    assert rows["app_user"] == 3


def test_back_up_now_writes_a_file_and_shows_it(signed_in: Callable[[str], AppTest],
                                                app_db: Engine) -> None:
    at = _open(signed_in, "admin")
    if app_db.dialect.name != "sqlite":
        code = [c.value for c in at.code]
        assert any(c.startswith("pg_dump --format=custom") for c in code), code
        assert any(c.startswith("pg_restore") for c in code), code
        assert not [b for b in at.button if b.label == "Back up now"]
        return
    _button(at, "Back up now")
    written = list(_backups_folder(app_db).glob("custdb-*.sqlite"))
    assert len(written) == 1
    assert len(at.success) == 1
    assert at.success[0].value.startswith(plain(f"Backup written: {written[0]} ("))
    assert any(written[0].name in t.value for t in at.text)  # newest backup line
    with sqlite3.connect(written[0]) as connection:
        assert connection.execute("SELECT count(*) FROM app_user").fetchone() == (3,)
    connection.close()
    # A double click's second click writes no second file and shows the same backup; the
    # message then goes with the next click on something else.
    _button(at, "Back up now")
    assert list(_backups_folder(app_db).glob("custdb-*.sqlite")) == written
    assert at.success[0].value.startswith(plain(f"Backup written: {written[0]} ("))
    _button(at, "Verify audit chain")
    assert not [s for s in at.success if "Backup written" in s.value]


def test_an_unwritable_backup_folder_is_reported(signed_in: Callable[[str], AppTest],
                                                 app_db: Engine) -> None:
    if app_db.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL is backed up with pg_dump")
    _backups_folder(app_db).write_text("a file where the folder should be")
    at = _open(signed_in, "admin")
    _button(at, "Back up now")
    assert len(at.error) == 1
    assert "Cannot write a backup into" in at.error[0].value
    assert not at.success


def test_verify_audit_chain_on_request(signed_in: Callable[[str], AppTest],
                                       app_db: Engine) -> None:
    at = _open(signed_in, "admin")
    assert not at.success
    _button(at, "Verify audit chain")
    assert [s.value for s in at.success if "chain is intact" in s.value]


@pytest.mark.parametrize("role", ["manager", "marketing"])
def test_refused_without_the_admin_role(signed_in: Callable[[str], AppTest], role: str) -> None:
    at = _open(signed_in, role)
    assert [e.value for e in at.error] == [
        f"Your role ({role}) does not give access to the database panel. "
        "Ask an admin if you need it."]
    assert not at.metric and [b.label for b in at.button] == ["Sign out"]


def test_a_click_during_the_backup_does_not_write_a_second_one(
        signed_in: Callable[[str], AppTest], app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The spinner closing after the copy is a point where a click that came meanwhile
    stops the run: the double-click guard must already know of the backup then."""
    if app_db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL is backed up with pg_dump, not from the page")
    cut_after(monkeypatch, copy, "back_up")
    at = _open(signed_in, "admin")
    next(b for b in at.button if b.label == "Back up now").click().run()  # cut off
    _button(at, "Back up now")  # the double click's second click
    written = list(_backups_folder(app_db).glob("custdb-*.sqlite"))
    assert len(written) == 1
    assert at.success[0].value.startswith(plain(f"Backup written: {written[0]} ("))


def test_slow_row_counts_fill_in_after_the_rest_of_the_page(
        signed_in: Callable[[str], AppTest], app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = facts._counts

    def held(connection: Connection) -> list[facts.TableRows]:
        release.wait(20)  # as counting ten million orders keeps it waiting
        return real(connection)

    monkeypatch.setattr(facts, "_counts", held)
    monkeypatch.setattr(background, "PAGE_WAIT_S", 0.0)
    at = _open(signed_in, "admin")
    assert at.info[0].value.startswith("Counting the rows of every table")
    assert "Engine" in [m.label for m in at.metric] and not at.dataframe
    assert any(b.label == "Verify audit chain" for b in at.button)  # the rest is all there
    release.set()
    monkeypatch.setattr(background, "PAGE_WAIT_S", 20.0)
    at.run()  # what the page's poll does once the counts are in
    assert at.dataframe[0].value.set_index("Table")["Rows"]["app_user"] == 3
    assert not at.info
