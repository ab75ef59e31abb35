"""Sign-in, lockout, role-based menus and page refusals, through the real app script."""

from __future__ import annotations

import base64
import threading
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import streamlit.runtime.context
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from dashboard import warmup
from dashboard.navigation import visible_titles
from db.core.access import Actor
from db.users.service import list_users, record_logout, update_user
from tests.factories import ADMIN
from tests.pages.conftest import APP, PASSWORDS, ROOT, TEST_COOKIE_KEY, sign_in


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_sign_in_shows_the_home_page(app_db: Engine) -> None:
    at = sign_in("manager", PASSWORDS["manager"])
    assert not at.exception
    assert at.title[0].value == "Home"
    assert at.text[0].value.startswith("Welcome, Manager User. Signed in as manager")
    assert [m.label for m in at.metric] == ["Customers", "Orders", "Interactions", "Last order"]
    assert [b.label for b in at.sidebar.button] == ["Sign out"]


def test_the_sign_in_form_is_gone_once_home_shows(app_db: Engine) -> None:
    """The run that signs in drew the form before it knew; Home must not show below it
    (it stayed, the password typed in, until the next click)."""
    at = sign_in("manager", PASSWORDS["manager"])
    assert at.title[0].value == "Home"
    assert [box.label for box in at.text_input] == []
    assert [button.label for button in at.button] == ["Sign out"]


def test_the_first_visit_starts_warming_the_pages_imports_once(
        app_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sign-in page is drawn first; the pages' imports then run in the background
    (dashboard/warmup.py), once per server process however many visitors come."""
    ran = threading.Event()
    calls: list[None] = []
    monkeypatch.setattr(warmup, "_started", False)
    monkeypatch.setattr(warmup, "import_all", lambda names: (calls.append(None), ran.set()))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert [box.label for box in at.text_input] == ["Username", "Password"]
    at.run()
    sign_in("manager", PASSWORDS["manager"])  # another visitor
    assert ran.wait(10) and calls == [None]


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
                        lambda failures, **policy: timedelta(minutes=15 if failures >= 3 else 0))
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


def test_an_attempt_refused_as_too_early_shows_only_the_delay(
        app_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The attempt was not judged, so "incorrect" (left from the guess before) must not
    show beside the delay: with both, the right password looked wrong."""
    from db.users import service as users

    monkeypatch.setattr(users, "retry_delay",
                        lambda failures, **policy: timedelta(minutes=15 if failures >= 3 else 0))
    at = AppTest.from_file(APP, default_timeout=30).run()
    for attempt in range(3):
        at.text_input[0].input("manager")
        at.text_input[1].input(f"wrong-guess-{attempt}")
        at.button[0].click().run()
    assert _errors(at) == ["Username or password is incorrect."]
    at.text_input[1].input(PASSWORDS["manager"])
    at.button[0].click().run()
    assert len(_errors(at)) == 1, _errors(at)
    assert _errors(at)[0].startswith("Too many failed sign-ins. Try again in ")
    assert at.session_state["authentication_status"] is not True


@pytest.mark.parametrize(("role", "titles"), [
    ("admin", ["Home", "KPIs", "Predictions", "Lookup", "New customer", "Duplicates",
               "Data quality", "Segments", "Audit trail", "Users", "Import data",
               "Deleted customers", "Privacy", "Database", "Settings"]),
    ("manager", ["Home", "KPIs", "Predictions", "Lookup", "New customer", "Duplicates",
                 "Data quality", "Segments", "Audit trail"]),
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


# --- Sessions end on the server's word, on the next rerun ---------------------------------


def _shows_only_the_sign_in_form(at: AppTest) -> bool:
    """The sign-in form and nothing of the app: no page, no menu, no figures, no tables."""
    return (not at.exception and [b.label for b in at.button] == ["Sign in"]
            and not at.title and not at.metric and not at.dataframe
            and not at.sidebar.button and at.session_state["authentication_status"] is None)


def _with_cookie(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """Make every run see ``custdb_session=value`` in the browser's request.

    AppTest cannot seed cookies (``st.context.cookies`` comes from the session's client), so
    the client context Streamlit asks for is replaced by one that carries the cookie.
    """
    context = types.SimpleNamespace(cookies={"custdb_session": value}, headers={})
    monkeypatch.setattr(streamlit.runtime.context, "_get_client_context", lambda: context)


def _cookie_for(username: str, *, key: str = TEST_COOKIE_KEY, algorithm: str = "HS256",
                issued: datetime | None = None) -> str:
    """A sign-in cookie as the app writes it: {username, exp_date} signed with ``key``."""
    exp_date = ((issued or datetime.now(UTC)) + timedelta(days=1)).timestamp()
    return jwt.encode({"username": username, "exp_date": exp_date}, key, algorithm=algorithm)


REVOCATIONS: dict[str, Callable[[Engine, int], object]] = {
    "sign-out elsewhere": lambda engine, _id: record_logout("manager", engine=engine),
    "password change": lambda engine, user_id: update_user(
        ADMIN, user_id, new_password="a-new-password-9", engine=engine),
    "deactivation": lambda engine, user_id: update_user(ADMIN, user_id, active=False,
                                                        engine=engine),
}


def _manager_id(engine: Engine) -> int:
    return next(u.id for u in list_users(ADMIN, engine=engine) if u.username == "manager")


@pytest.mark.parametrize("revoke", REVOCATIONS, ids=list(REVOCATIONS))
def test_a_form_session_ends_on_the_next_rerun_after(
    signed_in: Callable[[str], AppTest], app_db: Engine, revoke: str
) -> None:
    at = signed_in("manager")
    at.run()
    assert at.title[0].value == "Home"
    REVOCATIONS[revoke](app_db, _manager_id(app_db))
    at.run()
    assert _shows_only_the_sign_in_form(at), (at.exception, [t.value for t in at.title])
    assert [i.value for i in at.info] == ["Your session has ended. Please sign in again."]


@pytest.mark.parametrize("revoke", REVOCATIONS, ids=list(REVOCATIONS))
def test_a_cookie_session_ends_on_the_next_rerun_after(
    app_db: Engine, monkeypatch: pytest.MonkeyPatch, revoke: str
) -> None:
    _with_cookie(monkeypatch, _cookie_for("manager"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Home"  # the cookie signed in
    at.run()
    assert at.title[0].value == "Home"
    REVOCATIONS[revoke](app_db, _manager_id(app_db))
    at.run()
    assert _shows_only_the_sign_in_form(at), (at.exception, [t.value for t in at.title])


def test_a_cookie_issued_before_a_sign_out_does_not_sign_in(
    app_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_cookie(monkeypatch, _cookie_for("manager", issued=datetime.now(UTC)
                                          - timedelta(minutes=5)))
    record_logout("manager", engine=app_db)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert _shows_only_the_sign_in_form(at)


def test_signing_in_again_after_a_revocation_works(
    signed_in: Callable[[str], AppTest], app_db: Engine
) -> None:
    at = signed_in("manager")
    record_logout("manager", engine=app_db)
    at.run()
    assert _shows_only_the_sign_in_form(at)
    at.text_input[0].input("manager")
    at.text_input[1].input(PASSWORDS["manager"])
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Home"
    at.run()
    assert at.title[0].value == "Home"


# --- Forged or broken cookies: the sign-in form, never a traceback -------------------------


def _none_algorithm_token() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    exp_date = (datetime.now(UTC) + timedelta(days=1)).timestamp()
    body = base64.urlsafe_b64encode(
        f'{{"username":"admin","exp_date":{exp_date}}}'.encode()).rstrip(b"=").decode()
    return f"{header}.{body}."


FORGED_COOKIES: dict[str, Callable[[], str]] = {
    "alg none": _none_algorithm_token,
    "HS512 with another key": lambda: _cookie_for("admin", key="x" * 64, algorithm="HS512"),
    "HS256 with another key": lambda: _cookie_for("admin", key="y" * 64),
    "truncated": lambda: _cookie_for("admin")[:-10],
    "not base64": lambda: "%%%not.base64!!!.at all",
    "expired": lambda: _cookie_for("admin", issued=datetime.now(UTC) - timedelta(days=2)),
    "no exp_date": lambda: jwt.encode({"username": "admin"}, TEST_COOKIE_KEY, algorithm="HS256"),
    "exp_date not a number": lambda: jwt.encode({"username": "admin", "exp_date": "soon"},
                                                TEST_COOKIE_KEY, algorithm="HS256"),
    "unknown user": lambda: _cookie_for("ghost"),
}


@pytest.mark.parametrize("forged", FORGED_COOKIES, ids=list(FORGED_COOKIES))
def test_a_forged_or_broken_cookie_shows_the_sign_in_form(
    app_db: Engine, monkeypatch: pytest.MonkeyPatch, forged: str
) -> None:
    _with_cookie(monkeypatch, FORGED_COOKIES[forged]())
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert _shows_only_the_sign_in_form(at), at.exception
    at.run()  # and it stays usable: the form signs in despite the cookie the browser still sent
    assert _shows_only_the_sign_in_form(at), at.exception
    at.text_input[0].input("admin")
    at.text_input[1].input(PASSWORDS["admin"])
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Home"
