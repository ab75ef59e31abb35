"""Sign-in and sign-out: streamlit-authenticator's form and cookie, our user table's rules.

The library keeps failed-attempt counts only in the credentials dict it is given (lost on
every rerun) and skips the bcrypt work for unknown usernames. So the password check is
delegated to :func:`db.users.authenticate`, which counts failures in the database, locks
after five and spends the same work on unknown names; the library still draws the form,
keeps the session state and sets the re-authentication cookie.
"""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from dashboard import settings
from db import users
from db.users import UserView

COOKIE_NAME = "custdb_session"
COOKIE_DAYS = 1.0
FORM_LABELS = {"Form name": "Sign in to custdb", "Username": "Username",
               "Password": "Password", "Login": "Sign in"}


def _check_credentials(username: str, password: str) -> bool:
    try:
        return users.authenticate(username, password) is not None
    except users.AccountLocked as locked:
        raise LoginError(str(locked)) from locked


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


def signed_in_user() -> UserView | None:
    """Show the sign-in form until someone signs in; then return their (current) account."""
    authenticator = _authenticator()
    st.session_state["_authenticator"] = authenticator
    try:
        authenticator.login(location="main", fields=FORM_LABELS, key="sign_in")
    except LoginError as error:
        st.error(str(error))
        return None
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("Username or password is incorrect.")
    if not status:
        return None
    user = users.active_user(st.session_state["username"])
    if user is None:  # deactivated since signing in: end the session
        authenticator.logout(location="unrendered")
        st.error("Your account is no longer active.")
        return None
    return user


def sign_out_button(user: UserView) -> None:
    """A sidebar button that ends the session, deletes the cookie and audits the sign-out."""
    authenticator: stauth.Authenticate = st.session_state["_authenticator"]
    authenticator.logout("Sign out", "sidebar", key="sign_out",
                         callback=lambda _info: users.record_logout(user.username))
    if not st.session_state.get("authentication_status"):
        st.rerun()
