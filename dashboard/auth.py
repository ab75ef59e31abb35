"""Sign-in and sign-out: streamlit-authenticator's form and cookie, our user table's rules.

The library keeps failed-attempt counts only in the credentials dict it is given (lost on
every rerun) and skips the bcrypt work for unknown usernames. So the password check is
delegated to :func:`db.users.service.authenticate`, which counts failures in the database, locks
after five and spends the same work on unknown names; the library still draws the form,
keeps the session state and sets the re-authentication cookie.

The cookie is a signed token the server cannot recall, so a cookie sign-in is also checked
against the user's ``sessions_revoked_at`` (set by sign-out, password change, deactivation).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from dashboard import browser_cookie, settings
from db.users import service as users
from db.users.service import UserView

COOKIE_NAME = "custdb_session"
COOKIE_DAYS = 1.0
FORM_LABELS = {"Form name": "Sign in to custdb", "Username": "Username",
               "Password": "Password", "Login": "Sign in"}
_SIGNED_IN_BY_FORM = "_custdb_signed_in_by_form"
_SESSION_CHECKED = "_custdb_session_checked"
_NOTICE = "_custdb_sign_in_notice"

browser_cookie.install()


def _check_credentials(username: str, password: str) -> bool:
    try:
        ok = users.authenticate(username, password) is not None
    except users.AccountLocked as locked:
        raise LoginError(str(locked)) from locked
    st.session_state[_SIGNED_IN_BY_FORM] = ok
    return ok


def _streamlit_secrets() -> dict:
    return st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}


def _authenticator() -> stauth.Authenticate:
    authenticator = stauth.Authenticate(
        users.authenticator_credentials(), COOKIE_NAME,
        settings.cookie_key(_streamlit_secrets()), COOKIE_DAYS,
        auto_hash=False,
        # The library waits 0.7 s per run for a browser-side cookie read; it reads the
        # cookie from the request instead (st.context.cookies), so there is nothing to wait for.
        login_sleep_time=0,
    )
    # The one seam the library offers for the password check (see the module docstring).
    authenticator.authentication_controller.authentication_model.check_credentials = (
        _check_credentials
    )
    return authenticator


def _end_cookie_session(authenticator: stauth.Authenticate, notice: str) -> None:
    """Forget a cookie sign-in: ignore the cookie from now on and ask the browser to drop it."""
    if st.session_state.get("authentication_status"):
        authenticator.logout(location="unrendered")  # also deletes the cookie
    else:
        st.session_state["logout"] = True  # the library then stops reading the cookie
        authenticator.cookie_controller.delete_cookie()
    st.session_state[_NOTICE] = notice


def _cookie_issued_at(authenticator: stauth.Authenticate) -> datetime | None:
    token = authenticator.cookie_controller.get_cookie()
    if not token:
        return None
    return datetime.fromtimestamp(token["exp_date"], UTC) - timedelta(days=COOKIE_DAYS)


def _form(authenticator: stauth.Authenticate) -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        if notice := st.session_state.pop(_NOTICE, None):
            st.info(notice)
        try:
            authenticator.login(location="main", fields=FORM_LABELS, key="sign_in")
        except LoginError as error:
            if isinstance(error.__cause__, users.AccountLocked):
                st.error(str(error))
            else:
                # The cookie names a user who may no longer sign in (the library raises
                # before drawing the form): drop the cookie and draw the form.
                _end_cookie_session(authenticator, "Your session has ended. Please sign in.")
                st.info(st.session_state.pop(_NOTICE))
                authenticator.login(location="main", fields=FORM_LABELS, key="sign_in")
        if st.session_state.get("authentication_status") is False:
            st.error("Username or password is incorrect.")


def signed_in_user() -> UserView | None:
    """Show the sign-in form until someone signs in; then return their (current) account."""
    authenticator = _authenticator()
    st.session_state["_authenticator"] = authenticator
    _form(authenticator)
    if not st.session_state.get("authentication_status"):
        return None
    username = st.session_state["username"]
    if not st.session_state.get(_SIGNED_IN_BY_FORM) and not st.session_state.get(
            _SESSION_CHECKED):
        issued_at = _cookie_issued_at(authenticator)
        if issued_at is None or not users.cookie_session_is_current(username, issued_at):
            _end_cookie_session(authenticator, "Your session has ended. Please sign in again.")
            st.rerun()
        st.session_state[_SESSION_CHECKED] = True
    user = users.active_user(username)
    if user is None:  # deactivated since signing in: end the session
        _end_cookie_session(authenticator, "Your account is no longer active.")
        st.rerun()
    return user


def sign_out_button(user: UserView) -> None:
    """A sidebar button that ends the session everywhere, asks the browser to delete the
    cookie and audits the sign-out."""
    authenticator: stauth.Authenticate = st.session_state["_authenticator"]
    authenticator.logout("Sign out", "sidebar", key="sign_out",
                         callback=lambda _info: users.record_logout(user.username))
    if not st.session_state.get("authentication_status"):
        for key in (_SIGNED_IN_BY_FORM, _SESSION_CHECKED):
            st.session_state.pop(key, None)
        # No st.rerun() here: the cookie deletion is a browser component that must render
        # in this run; it reruns the app itself, which then shows the sign-in form.
        st.info("You are signed out.")
        st.stop()
