"""Users (admin): who can sign in, with which role; add accounts, change roles and passwords,
clear a run of failed sign-ins. The service refuses demoting or deactivating oneself or the
last active admin; the page shows its reason."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.text import plain
from db.admin import settings
from db.core.access import ROLES, Capability
from db.core.types import utcnow
from db.users.service import UserError, UserView, create_user, list_users, update_user

ADD_FIELDS = ("new_username", "new_display_name", "new_email", "new_role", "new_password",
              "new_password_repeat")


NEXT_ALLOWED = "Next sign-in allowed after (UTC)"


def _table(accounts: list[UserView]) -> None:
    # Failed sign-ins delay the next attempt, they never lock: the time shows only while it
    # is still ahead, to the second (the first delays are seconds long).
    now = utcnow()
    frame = pd.DataFrame([{
        "Username": u.username, "Name": u.display_name, "Email": u.email or "",
        "Role": u.role, "Active": u.active, "Failed sign-ins in a row": u.failed_logins,
        NEXT_ALLOWED: u.locked_until if u.locked_until and u.locked_until > now else pd.NaT,
        "Last sign-in (UTC)": u.last_login_at or pd.NaT} for u in accounts])
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "Name": st.column_config.TextColumn(width="medium"),
        NEXT_ALLOWED: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        "Last sign-in (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
    })


def _add_form(admin: UserView) -> None:
    # Not clear_on_submit: a refused form keeps what was typed; a saved one is cleared below.
    with st.form("add_user"):
        st.subheader("Add a user")
        left, right = st.columns(2)
        username = left.text_input("Username", max_chars=50, key="new_username")
        display_name = right.text_input("Display name", max_chars=100, key="new_display_name")
        email = left.text_input("Email (optional)", max_chars=254, key="new_email")
        role = right.selectbox("Role", ROLES, index=ROLES.index("marketing"), key="new_role")
        password = left.text_input("Password", type="password", key="new_password")
        repeat = right.text_input("Repeat password", type="password",
                                  key="new_password_repeat")
        if not st.form_submit_button("Add user"):
            return
    if password != repeat:
        st.error("The two passwords differ.")
        return
    try:
        created = create_user(admin.actor, username=username, display_name=display_name,
                              role=role, password=password, email=email.strip() or None)
    except UserError as error:
        st.error(plain(error))
        return
    for key in ADD_FIELDS:
        del st.session_state[key]
    st.toast(f"Added {created.username} ({created.role}).")
    st.rerun()


def _delay_rule() -> str:
    """The sign-in delay policy in words, as the settings say it now."""
    now = settings.current()
    nth = {1: "first", 2: "second", 3: "third"}.get(now.sign_in_delay_after,
                                                    f"{now.sign_in_delay_after}th")
    longest = now.longest_sign_in_delay_minutes
    return (f"From the {nth}, each one delays the next attempt (1 s, then doubling up to "
            f"{longest} minute{'s' if longest != 1 else ''}; Settings page)")


def _change_form(admin: UserView, accounts: list[UserView]) -> None:
    by_name = {u.username: u for u in accounts}
    st.subheader("Change a user")
    username = st.selectbox("User", list(by_name))
    current = by_name[username]
    # One form per user, so its widgets start from that user's values.
    with st.form(f"change_user_{username}"):
        left, right = st.columns(2)
        role = left.selectbox("Role", ROLES, index=ROLES.index(current.role))
        active = right.checkbox("Active (may sign in)", value=current.active)
        unlock = right.checkbox(
            "Clear failed sign-ins",
            help=f"{current.failed_logins} in a row now. {_delay_rule()}; clearing lets them "
                 "try again at once.")
        password = left.text_input("New password (leave empty to keep)", type="password")
        if not st.form_submit_button("Save changes"):
            return
    try:
        update_user(admin.actor, current.id, role=role, active=active, unlock=unlock,
                    new_password=password or None)
    except UserError as error:
        st.error(plain(error))
        return
    st.toast(f"Saved {username}.")
    st.rerun()


def main() -> None:
    admin = require_page(Capability.ADMINISTER, "Users")
    st.title("Users")
    accounts = list_users(admin.actor)
    _table(accounts)
    _add_form(admin)
    _change_form(admin, accounts)


main()
