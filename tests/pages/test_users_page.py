"""The admin's Users page: add, refuse bad input without losing it, change a role."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.core.types import utcnow
from db.users import service as users
from tests.factories import ADMIN
from tests.pages.conftest import ROOT

USERS_PAGE = str(ROOT / "pages" / "users.py")


def _open(signed_in: Callable[[str], AppTest]) -> AppTest:
    at = signed_in("admin")
    at.switch_page(USERS_PAGE).run()
    assert not at.exception
    return at


def _fill(at: AppTest, **values: str) -> None:
    for key, value in values.items():
        at.text_input(key=key).input(value)


def test_add_user_then_the_form_is_empty_again(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in)
    _fill(at, new_username="Jane.Doe", new_display_name="**Jane** ![x](http://127.0.0.1:1/x)",
          new_email="jane@example.com", new_password="jane-pass-123",
          new_password_repeat="jane-pass-123")
    at.selectbox(key="new_role").select("manager")
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    row = table[table["Username"] == "jane.doe"].iloc[0]
    assert row["Role"] == "manager"
    assert row["Name"] == "**Jane** ![x](http://127.0.0.1:1/x)"  # stored and shown as typed
    assert at.text_input(key="new_username").value == ""
    assert at.selectbox(key="new_role").value == "marketing"


def test_refused_input_is_explained_and_kept(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in)
    _fill(at, new_username="jane", new_display_name="Jane", new_email="not an email",
          new_password="jane-pass-123", new_password_repeat="jane-pass-123")
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert len(at.error) == 1 and "not a valid email" in at.error[0].value
    assert at.text_input(key="new_username").value == "jane"
    assert at.text_input(key="new_email").value == "not an email"
    assert "jane" not in set(at.dataframe[0].value["Username"])


def test_change_a_role(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in)
    user_picker = next(s for s in at.selectbox if s.label == "User")
    user_picker.select("marketing").run()
    role = next(s for s in at.selectbox if s.label == "Role" and s.key != "new_role")
    role.select("manager")
    at.button(key="FormSubmitter:change_user_marketing-Save changes").click().run()
    assert not at.error
    table = at.dataframe[0].value
    assert table.loc[table["Username"] == "marketing", "Role"].item() == "manager"


def test_failed_sign_ins_show_their_count_and_when_the_next_attempt_is_allowed(
        signed_in: Callable[[str], AppTest], app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A sign-in delay is not a lock: the table says how many failed in a row and, to the
    second, when the next attempt is heard, and nothing once that time has passed."""
    monkeypatch.setattr(users, "retry_delay", lambda failures: timedelta(minutes=15))
    an_hour_ago = utcnow() - timedelta(hours=1)
    for attempt in range(3):
        users.authenticate("marketing", f"wrong-{attempt}", engine=app_db, now=an_hour_ago)
        users.authenticate("manager", f"wrong-{attempt}", engine=app_db)
    at = _open(signed_in)
    table = at.dataframe[0].value.set_index("Username")
    assert "Locked until (UTC)" not in table.columns
    assert table.loc["marketing", "Failed sign-ins in a row"] == 3
    assert pd.isna(table.loc["marketing", "Next sign-in allowed after (UTC)"])  # passed
    manager = next(u for u in users.list_users(ADMIN, engine=app_db) if u.username == "manager")
    assert table.loc["manager", "Failed sign-ins in a row"] == 3
    assert table.loc["manager", "Next sign-in allowed after (UTC)"] == pd.Timestamp(
        manager.locked_until)
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["Next sign-in allowed after (UTC)"]["type_config"]["format"].endswith(
        "HH:mm:ss")

    next(s for s in at.selectbox if s.label == "User").select("manager").run()
    assert not [c for c in at.checkbox if "Unlock" in c.label]
    next(c for c in at.checkbox if c.label == "Clear failed sign-ins").check()
    at.button(key="FormSubmitter:change_user_manager-Save changes").click().run()
    table = at.dataframe[0].value.set_index("Username")
    assert table.loc["manager", "Failed sign-ins in a row"] == 0
    assert pd.isna(table.loc["manager", "Next sign-in allowed after (UTC)"])
