"""The sign-in cookie is written by a browser component only in the run that writes it.

streamlit-authenticator builds extra-streamlit-components' ``CookieManager`` on every run,
and that component reads all cookies in the browser and sends them back, which reruns the
app once after every page load. A click that lands before that rerun is lost (a form submit
reverts to "not pressed": Extra-Streamlit-Components issue #58), and every page is scripted
twice. custdb reads the cookie from the request (``st.context.cookies``, as the library
itself now does), so the read-back is never needed.

:func:`install` swaps the library's cookie manager for :class:`CookieWriter`, which offers
the two calls the library makes (``set`` and ``delete``) and draws the component only then.
"""

from __future__ import annotations

import datetime as dt
import types

# The package ships neither type hints nor a py.typed marker; this is its one import here.
from extra_streamlit_components.CookieManager import _component_func
from streamlit_authenticator.models import cookie_model


class CookieWriter:
    """Sets or deletes one cookie in the browser, in the current run only."""

    def set(self, cookie: str, val: str, expires_at: dt.datetime) -> None:
        """Ask the browser to store ``cookie`` until ``expires_at``, for this site only."""
        options = {"path": "/", "expires": expires_at.isoformat(), "sameSite": "strict"}
        _component_func(method="set", cookie=cookie, value=val, options=options,
                        key="set_cookie", default=False)

    def delete(self, cookie: str) -> None:
        """Ask the browser to drop ``cookie``."""
        _component_func(method="delete", cookie=cookie, key="delete_cookie", default=False)


def install() -> None:
    """Make streamlit-authenticator's cookie model use :class:`CookieWriter`.

    The model looks ``stx.CookieManager`` up when it is built, so replacing the module it
    reads that name from is enough; the rest of the library is untouched.
    """
    cookie_model.stx = types.SimpleNamespace(CookieManager=CookieWriter)
