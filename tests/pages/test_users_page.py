"""The admin's Users page: add, refuse bad input without losing it, change a role."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

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
