"""Sign-in, lockout, role-based menus and page refusals, through the real app script."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from dashboard.navigation import visible_titles
from db.core.access import Actor
from tests.pages.conftest import APP, PASSWORDS, ROOT, sign_in


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_sign_in_shows_the_home_page(app_db: Engine) -> None:
    at = sign_in("manager", PASSWORDS["manager"])
    assert not at.exception
    assert at.title[0].value == "Home"
    assert at.text[0].value.startswith("Welcome, Manager User. Signed in as manager")
    assert [m.label for m in at.metric] == ["Customers", "Orders", "Interactions", "Last order"]
    assert [b.label for b in at.sidebar.button] == ["Sign out"]


def test_wrong_password_is_refused_with_a_message(app_db: Engine) -> None:
    at = sign_in("manager", "not-the-password-1")
    assert _errors(at) == ["Username or password is incorrect."]
    assert not at.title  # no page content
    assert at.session_state["authentication_status"] is False


def test_unknown_user_gets_the_same_message(app_db: Engine) -> None:
    at = sign_in("ghost", "whatever-pass-1")
    assert _errors(at) == ["Username or password is incorrect."]


def test_the_delay_after_failures_persists_across_sessions(
        app_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from db.users import service as users

    # Long delays from the third failure, so the test does not race the clock.
    monkeypatch.setattr(users, "retry_delay",
                        lambda failures: timedelta(minutes=15 if failures >= 3 else 0))
    at = AppTest.from_file(APP, default_timeout=30).run()
    for attempt in range(5):
        at.text_input[0].input("manager")
        at.text_input[1].input(f"wrong-guess-{attempt}")
        at.button[0].click().run()
    # The right password, in a brand-new session: still delayed, so the count was persisted.
    fresh = sign_in("manager", PASSWORDS["manager"])
    assert len(_errors(fresh)) == 1
    assert _errors(fresh)[0].startswith("Too many failed sign-ins.")
    assert fresh.session_state["authentication_status"] is not True


@pytest.mark.parametrize(("role", "titles"), [
    ("admin", ["Home", "KPIs", "Lookup", "New customer", "Segments", "Audit trail", "Users",
               "Deleted customers"]),
    ("manager", ["Home", "KPIs", "Lookup", "New customer", "Segments", "Audit trail"]),
    ("marketing", ["Home", "Lookup", "Segments"]),
])
def test_menu_lists_the_pages_of_the_role(role: str, titles: list[str]) -> None:
    assert visible_titles(Actor("x", role)) == titles


@pytest.mark.parametrize("role", ["manager", "marketing"])
def test_users_page_opened_without_the_role_is_refused(
    signed_in: Callable[[str], AppTest], role: str
) -> None:
    at = signed_in(role)
    at.switch_page(str(ROOT / "pages" / "users.py")).run()
    assert not at.exception
    assert _errors(at) == [f"Your role ({role}) does not give access to Users. "
                           "Ask an admin if you need it."]
    assert not at.dataframe and not at.text_input  # nothing of the page was drawn


def test_sign_out_returns_to_the_sign_in_form(signed_in: Callable[[str], AppTest]) -> None:
    at = signed_in("marketing")
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert [i.value for i in at.info] == ["You are signed out."]
    assert at.session_state["authentication_status"] is None
    at.run()  # what the browser's cookie component triggers after deleting the cookie
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.title
