"""AppTest fixtures: the real app script against a per-test database with one user per role."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from dashboard import kpi_figures
from db.backup.facts import forget_table_rows
from db.core import background
from db.core.access import Actor
from db.predict.outlook import forget_outlooks
from db.privacy.retention import forget_retention_reports
from db.quality import snapshot
from db.segments import preview
from db.users.service import create_user

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
PASSWORDS = {"admin": "admin-pass-123", "manager": "manager-pass-123",
             "marketing": "marketing-pass-123"}
# Random (a made-up key would fail the entropy check): secrets.token_hex(32).
TEST_COOKIE_KEY = "c0497d9b132fad41b3550dfb9ef97c97701e73f8b887dab31037ce2091516318"


@pytest.fixture
def app_db(engine: Engine, database_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Point the app at the test database and create ``admin``, ``manager``, ``marketing``.

    The pages' cached figures are dropped first: they are keyed by the database URL and its
    data version (the newest ids), and the PostgreSQL tests reuse one database emptied with
    its ids restarted, so an earlier test's figures could match a later test's key. The
    segment builder's all-customers counts likewise, after the background ones end (also
    when the test does: none outlives its database).
    """
    st.cache_data.clear()
    preview.forget_populations()
    snapshot.forget()
    forget_outlooks()
    kpi_figures.forget()
    forget_table_rows()
    forget_retention_reports()
    # Pages wait for a figure computed in the background rather than poll for it: a loaded
    # test machine must not turn a few records' figure into a page still waiting.
    monkeypatch.setattr(background, "PAGE_WAIT_S", 30.0)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CUSTDB_COOKIE_KEY", TEST_COOKIE_KEY)
    setup = Actor("setup", "admin")
    for role, password in PASSWORDS.items():
        create_user(setup, username=role, display_name=f"{role.title()} User", role=role,
                    password=password, engine=engine)
    yield engine
    preview.forget_populations()
    snapshot.forget()
    forget_outlooks()
    kpi_figures.forget()
    forget_table_rows()
    forget_retention_reports()


def started_by_home(role: str, computed: list[str]) -> AppTest:
    """Sign in as ``role`` (home shows), then wait until a computation home starts in the
    background has appended to ``computed`` (or 30 s went by)."""
    at = sign_in(role, PASSWORDS[role])
    deadline = time.monotonic() + 30
    while not computed and time.monotonic() < deadline:
        time.sleep(0.05)
    return at


def sign_in(username: str, password: str) -> AppTest:
    """A fresh browser session that submits the sign-in form once."""
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


@pytest.fixture
def signed_in(app_db: Engine) -> Callable[[str], AppTest]:
    """``signed_in("manager")``: an AppTest already signed in with that role's user."""
    def _sign_in(role: str) -> AppTest:
        at = sign_in(role, PASSWORDS[role])
        assert at.session_state["authentication_status"] is True, [e.value for e in at.error]
        return at
    return _sign_in


PROFILE = str(ROOT / "pages" / "customer.py")


def open_profile(signed_in: Callable[[str], AppTest], role: str, customer_id: int) -> AppTest:
    """A new session of ``role`` on the profile of ``customer_id`` (``?customer=ID``)."""
    at = signed_in(role)
    at.query_params["customer"] = str(customer_id)
    at.switch_page(PROFILE).run()
    assert not at.exception, at.exception
    return at
