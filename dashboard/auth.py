"""Sign-in and sign-out: streamlit-authenticator's form and cookie, our user table's rules.

The library keeps failed-attempt counts only in the credentials dict it is given (lost on every
rerun) and skips the bcrypt work for unknown usernames. So the password check is delegated to
:func:`db.users.service.authenticate`, which counts failures in the database, delays further
attempts more after each and answers unknown names the same way; the library still draws the
form, keeps the session state and sets the re-authentication cookie.

A session is only as good as the server says, on every rerun: the time it signed in (by the
form, or the issue time of the cookie that signed it in) is kept in the session state and
checked against the user's ``sessions_revoked_at`` and active flag by one indexed read
(:func:`db.users.service.session_user`). Sign-out anywhere, a password change or a
deactivation therefore ends every open session at its next click.

The cookie is read by :func:`read_session_cookie` before the library sees it: a token that is
not an HS256 JWT signed with our key, whose payload is not what the app writes, that has
expired or whose session has ended is dropped (the browser is asked to delete it) and the
form is shown; the library's own decoder lets some of those raise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit.delta_generator import DeltaGenerator
from streamlit_authenticator.utilities import LoginError

from dashboard import browser_cookie, settings
from db.core.types import utcnow
from db.users import service as users
from db.users.service import UserView

COOKIE_NAME = "custdb_session"
COOKIE_DAYS = 1.0
COOKIE_ALGORITHM = "HS256"  # what the library signs with; nothing else is accepted
FORM_LABELS = {"Form name": "Sign in to custdb", "Username": "Username",
               "Password": "Password", "Login": "Sign in"}
SESSION_ENDED = "Your session has ended. Please sign in again."
_SIGNED_IN_AT = "_custdb_signed_in_at"
_NOTICE = "_custdb_sign_in_notice"
# Counts the sessions ended in this browser tab: each gets a new, empty sign-in form. The
# browser keeps a form's typed values while its fields keep their identity, so a session
# ended from elsewhere (a sign-out on another device, a password change) showed the form
# with the password that had signed in, one click from signing in again.
_FORM_ROUND = "_custdb_sign_in_form"

browser_cookie.install()


@dataclass(frozen=True)
class SessionCookie:
    """What a valid sign-in cookie says: who, and when it was issued."""

    username: str
    issued_at: datetime


def read_session_cookie(token: str, key: str, *, now: datetime | None = None,
                        ) -> SessionCookie | None:
    """The cookie's content if ``token`` is one the app wrote and has not expired, else None.

    Never raises: any token that fails to decode for any reason (another algorithm, ``none``,
    another key, truncated, not base64, not JSON, a payload of the wrong shape) is None.
    """
    try:
        payload = jwt.decode(token, key, algorithms=[COOKIE_ALGORITHM])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    username = payload.get("username")
    exp_date = payload.get("exp_date")
    if (not isinstance(username, str) or not username
            or isinstance(exp_date, bool) or not isinstance(exp_date, int | float)
            or not math.isfinite(exp_date)):
        return None
    try:
        expires = datetime.fromtimestamp(exp_date, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    if expires <= (now or utcnow()):
        return None
    return SessionCookie(username, expires - timedelta(days=COOKIE_DAYS))


def _check_credentials(username: str, password: str) -> bool:
    try:
        ok = users.authenticate(username, password) is not None
    except users.AccountLocked as locked:
        raise LoginError(str(locked)) from locked
    if ok:
        st.session_state[_SIGNED_IN_AT] = utcnow()
        st.session_state.pop(_NOTICE, None)
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


def _end_session(authenticator: stauth.Authenticate, notice: str) -> None:
    """End this browser session's sign-in: ignore the cookie from now on (the browser keeps
    sending the one it had when the page loaded) and ask the browser to drop it."""
    if st.session_state.get("authentication_status"):
        authenticator.logout(location="unrendered")  # also deletes the cookie
    else:
        st.session_state["logout"] = True  # the library then stops reading the cookie
        authenticator.cookie_controller.delete_cookie()
    st.session_state.pop(_SIGNED_IN_AT, None)
    st.session_state[_NOTICE] = notice
    st.session_state[_FORM_ROUND] = st.session_state.get(_FORM_ROUND, 0) + 1


def _session_user() -> UserView | None:
    """The signed-in account if the server still honours this session (one indexed read)."""
    signed_in_at = st.session_state.get(_SIGNED_IN_AT)
    if signed_in_at is None:
        return None
    return users.session_user(st.session_state["username"], signed_in_at)


def _screen_cookie(authenticator: stauth.Authenticate) -> None:
    """Let the library sign in from the cookie only if it is valid and its session current."""
    cookie = read_session_cookie(st.context.cookies[COOKIE_NAME],
                                 authenticator.cookie_controller.cookie_model.cookie_key)
    if cookie is None or users.session_user(cookie.username, cookie.issued_at) is None:
        _end_session(authenticator, SESSION_ENDED)
    else:
        st.session_state[_SIGNED_IN_AT] = cookie.issued_at


def _form_key() -> str:
    """The sign-in form's key: a new one after each ended session (see :data:`_FORM_ROUND`)."""
    return f"sign_in_{st.session_state.get(_FORM_ROUND, 0)}"


def _form(authenticator: stauth.Authenticate) -> DeltaGenerator:
    """Draw the sign-in form (nothing once signed in); returns its place, which the run
    that signs in empties: that run drew the form before the library judged it."""
    place = st.empty()
    _, middle, _ = place.container().columns([1, 2, 1])
    with middle:
        # Kept until the next sign-in: the cookie deletion reruns the app once more.
        if notice := st.session_state.get(_NOTICE):
            st.info(notice)
        try:
            authenticator.login(location="main", fields=FORM_LABELS, key=_form_key())
        except LoginError as error:
            if isinstance(error.__cause__, users.AccountLocked):
                # The attempt was not judged: the "incorrect" of the guess before it
                # would make the right password look wrong.
                st.session_state["authentication_status"] = None
                st.error(str(error))
            else:
                # The cookie names a user who may no longer sign in (the library raises
                # before drawing the form): drop the cookie and draw the form.
                _end_session(authenticator, SESSION_ENDED)
                if notice != SESSION_ENDED:  # said once: it may already stand above
                    st.info(SESSION_ENDED)
                authenticator.login(location="main", fields=FORM_LABELS, key=_form_key())
        if st.session_state.get("authentication_status") is False:
            st.error("Username or password is incorrect.")
    return place


def signed_in_user() -> UserView | None:
    """Show the sign-in form until someone signs in; then return their (current) account.

    Every run asks the server whether the session still stands; once it does not, the
    session ends here and the form comes back in the same run.
    """
    authenticator = _authenticator()
    st.session_state["_authenticator"] = authenticator
    user = None
    if st.session_state.get("authentication_status"):
        user = _session_user()
        if user is None:
            _end_session(authenticator, SESSION_ENDED)
    elif not st.session_state.get("logout") and COOKIE_NAME in st.context.cookies:
        _screen_cookie(authenticator)
    # Drawn on every run, signed in or not (it then draws nothing inside): the page below
    # keeps its places, so an open expander or a form is not re-created on the next click.
    form = _form(authenticator)
    browser_cookie.flush()  # below the form, so that the form keeps its place on every run
    if not st.session_state.get("authentication_status"):
        return None
    if user is None:  # signed in during this run, by the form or by a screened cookie
        form.empty()  # else the form, password and all, stayed above Home until a click
        user = _session_user()
        if user is None:  # ended in the moment since: start over
            _end_session(authenticator, SESSION_ENDED)
            st.rerun()
    return user


def sign_out_button(user: UserView) -> None:
    """A sidebar button that ends the session everywhere, asks the browser to delete the
    cookie and audits the sign-out; below it, while the session lasts, the cookie it signed
    in with is written (:func:`browser_cookie.keep`)."""
    authenticator: stauth.Authenticate = st.session_state["_authenticator"]
    authenticator.logout("Sign out", "sidebar", key="sign_out",
                         callback=lambda _info: users.record_logout(user.username))
    if not st.session_state.get("authentication_status"):
        st.session_state.pop(_SIGNED_IN_AT, None)
        # No st.rerun() here: the cookie deletion is a browser component that must render
        # in this run; it reruns the app itself, which then shows the sign-in form.
        browser_cookie.flush()
        st.info("You are signed out.")
        st.stop()
    browser_cookie.keep()
