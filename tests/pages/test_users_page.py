"""The admin's Users page: add, refuse bad input without losing it, change a role."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.admin import settings
from db.core.types import utcnow
from db.users import service as users
from tests.factories import ADMIN
from tests.pages.conftest import PASSWORDS, ROOT, sign_in

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
    monkeypatch.setattr(users, "retry_delay", lambda failures, **policy: timedelta(minutes=15))
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


def _change(at: AppTest, username: str) -> None:
    next(s for s in at.selectbox if s.label == "User").select(username).run()


def test_reset_a_password_then_the_user_signs_in_with_it(
        signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in)
    _change(at, "marketing")
    next(t for t in at.text_input if t.label.startswith("New password")).input("fresh-pass-456")
    at.button(key="FormSubmitter:change_user_marketing-Save changes").click().run()
    assert not at.error and not at.exception
    assert sign_in("marketing", PASSWORDS["marketing"]).session_state[
        "authentication_status"] is not True
    assert sign_in("marketing", "fresh-pass-456").session_state["authentication_status"] is True


def test_an_admin_cannot_demote_themselves_and_is_told_why(
        signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in)
    _change(at, "admin")
    next(s for s in at.selectbox if s.label == "Role" and s.key != "new_role").select("manager")
    at.button(key="FormSubmitter:change_user_admin-Save changes").click().run()
    assert len(at.error) == 1
    assert "You cannot change your own role or deactivate yourself" in at.error[0].value
    table = at.dataframe[0].value
    assert table.loc[table["Username"] == "admin", "Role"].item() == "admin"


def test_another_admin_can_be_deactivated_while_the_signed_in_admin_remains(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    """The last-admin rule refuses only when no other active admin would remain; on the page
    the signed-in admin always remains (demoting themselves is refused above), so it never
    gets in the way here. Its refusal is tested at the service, with two admins racing."""
    users.create_user(ADMIN, username="boss", display_name="Boss", role="admin",
                      password="boss-pass-123", engine=app_db)
    at = _open(signed_in)
    _change(at, "boss")
    next(c for c in at.checkbox if c.label == "Active (may sign in)").uncheck()
    at.button(key="FormSubmitter:change_user_boss-Save changes").click().run()
    assert not at.error
    table = at.dataframe[0].value.set_index("Username")
    assert not table.loc["boss", "Active"]


def test_the_delay_help_follows_the_settings(signed_in: Callable[[str], AppTest],
                                             app_db: Engine) -> None:
    settings.update(ADMIN, {"sign_in_delay_after": 5, "longest_sign_in_delay_minutes": 30},
                    engine=app_db)
    at = _open(signed_in)
    clear = next(c for c in at.checkbox if c.label == "Clear failed sign-ins")
    assert "From the 5th" in clear.help and "up to 30 minutes" in clear.help
