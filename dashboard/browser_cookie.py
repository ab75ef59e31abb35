"""The sign-in cookie is written by the page on every run of the session that signed in,
and deleted by a browser component drawn below the sign-in form in the run that deletes it.

streamlit-authenticator builds extra-streamlit-components' ``CookieManager`` on every run,
and that component reads all cookies in the browser and sends them back, which reruns the
app once after every page load. A click that lands before that rerun is lost (a form submit
reverts to "not pressed": Extra-Streamlit-Components issue #58), and every page is scripted
twice. custdb reads the cookie from the request (``st.context.cookies``, as the library
itself now does), so the read-back is never needed.

Writing the cookie through that component in the sign-in run alone lost it too: a menu
click the moment Home showed replaced the run before the component had loaded (no cookie,
so the next reload asked to sign in again, about one time in three), and the component's
answer reran Home over the page just opened. :func:`keep` writes it instead with a script
that answers nothing, drawn in the sidebar on every run until the session ends, so a run
cut short is made good by the next and no click is undone.

:func:`install` swaps the library's cookie manager for :class:`CookieWriter`, which offers
the two calls the library makes (``set`` and ``delete``).
"""

from __future__ import annotations

import datetime as dt
import json
import types

import streamlit as st

# The package ships neither type hints nor a py.typed marker; this is its one import here.
from extra_streamlit_components.CookieManager import _component_func
from streamlit_authenticator.models import cookie_model

_KEPT = "_custdb_kept_cookie"  # (name, value, expiry): written on every run while set
_DELETED = "_custdb_deleted_cookie"  # the name of a cookie to drop, until flush() draws it


class CookieWriter:
    """Sets or deletes one cookie in the browser."""

    def set(self, cookie: str, val: str, expires_at: dt.datetime) -> None:
        """Have :func:`keep` store ``cookie`` in the browser until ``expires_at``."""
        st.session_state[_KEPT] = (cookie, val, expires_at.isoformat())

    def delete(self, cookie: str) -> None:
        """Stop writing ``cookie``; :func:`flush` asks the browser to drop it."""
        st.session_state.pop(_KEPT, None)
        st.session_state[_DELETED] = cookie


def flush() -> None:
    """Ask the browser, in this run, to drop the cookie this run deleted, if any.

    Drawn where the caller puts it rather than where the library deletes it (before the
    sign-in form): the component's answer reruns the app, and a run that drew it above the
    form while the next did not left that next run's form and notice one place higher,
    beside the first run's copy (Streamlit's ghost elements), so "Your session has ended"
    once showed twice."""
    cookie = st.session_state.pop(_DELETED, None)
    if cookie is not None:
        _component_func(method="delete", cookie=cookie, key="delete_cookie", default=False)


def keep() -> None:
    """Write the cookie this session signed in with, if any, for this site only: a script
    in an empty frame (of the page's own origin) that sends nothing back to the app. The
    same frame on every run, so the browser keeps it rather than running it again.

    The script holds nothing anyone typed or stored: the cookie's name, the token the
    library signed and its expiry, each JSON-encoded with "<" escaped. (``st.iframe``
    replaced ``components.v1.html``, deprecated for removal after 2026-06-01.)"""
    kept = st.session_state.get(_KEPT)
    if kept is None:
        return
    name, value, expires = (json.dumps(part).replace("<", "\\u003c") for part in kept)
    script = (f"<script>document.cookie = {name} + '=' + encodeURIComponent({value})"
              f" + '; path=/; expires=' + new Date({expires}).toUTCString()"
              f" + '; samesite=strict';</script>")
    with st.sidebar:
        # One pixel high, the least st.iframe draws; last in the sidebar, below Sign out.
        st.iframe(script, height=1)


def install() -> None:
    """Make streamlit-authenticator's cookie model use :class:`CookieWriter`.

    The model looks ``stx.CookieManager`` up when it is built, so replacing the module it
    reads that name from is enough; the rest of the library is untouched.
    """
    cookie_model.stx = types.SimpleNamespace(CookieManager=CookieWriter)
