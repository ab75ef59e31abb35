"""The page-side role check: a page opened without its role says so and renders nothing."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from db.core.access import Capability
from db.users.service import UserView

USER_KEY = "user"
HOME_PAGE = Path(__file__).resolve().parent.parent / "pages" / "home.py"


def require_page(capability: Capability | None, page_title: str) -> UserView:
    """Return the signed-in user, or stop the page with a clear refusal.

    The service layer checks the same capability again; this only spares the user a page
    of widgets that would all be refused.
    """
    user: UserView | None = st.session_state.get(USER_KEY)
    if user is None:
        st.warning("Please sign in first.")
        st.stop()
    if capability is not None and not user.actor.can(capability):
        st.error(f"Your role ({user.role}) does not give access to {page_title}. "
                 "Ask an admin if you need it.")
        st.page_link(str(HOME_PAGE), label="Back to Home", icon=":material/home:")
        st.stop()
    return user
