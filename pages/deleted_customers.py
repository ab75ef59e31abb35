"""Deleted customers (admin): who was soft-deleted, when and by whom — and restore them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.navigation import PAGES_DIR
from dashboard.text import plain
from db.core.access import Capability
from db.customers.service import (
    CustomerNotFound,
    DeletedCustomer,
    deleted_customers,
    restore_customer,
)
from db.users.service import UserView

SHOWN = 500


def _restored(admin: UserView, customer_id: int) -> None:
    """The restore, as a callback so the choice can be emptied before it is drawn again."""
    try:
        customer = restore_customer(admin.actor, customer_id)
    except CustomerNotFound as error:  # another admin restored them meanwhile
        st.session_state["restore_error"] = str(error)
        return
    st.session_state["restore_choice"] = None
    st.session_state["restored"] = (customer.id, f"{customer.first_name} {customer.last_name}")


def _table(rows: list[DeletedCustomer]) -> None:
    st.dataframe(pd.DataFrame([{
        "Id": row.id, "Name": row.name, "Country": row.country,
        "Deleted (UTC)": row.deleted_at, "By": row.deleted_by or "—",
        "Profile": f"/customer?customer={row.id}"} for row in rows]),
        hide_index=True, width="stretch", column_config={
            "Deleted (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Profile": st.column_config.LinkColumn("Profile", display_text="Open")})


def main() -> None:
    admin = require_page(Capability.ADMINISTER, "deleted customers")
    st.title("Deleted customers")
    if error := st.session_state.pop("restore_error", None):
        st.error(plain(error))
    if (restored := st.session_state.pop("restored", None)) is not None:
        customer_id, name = restored
        st.success(plain(f"Restored {name} (#{customer_id}): lookup, segments and the KPIs "
                         "count them again."))
        st.page_link(str(PAGES_DIR / "customer.py"), label="Open their profile",
                     icon=":material/person:", query_params={"customer": customer_id})
    rows = deleted_customers(admin.actor, limit=SHOWN)
    if not rows:
        st.info("No deleted customers.")
        return
    if len(rows) == SHOWN:
        st.caption(f"The {SHOWN} most recently deleted.")
    _table(rows)
    by_id = {row.id: row for row in rows}
    chosen = st.selectbox("Customer to restore", list(by_id), index=None,
                          format_func=lambda i: f"{by_id[i].name} (#{i})",
                          key="restore_choice", placeholder="Choose a deleted customer")
    st.button("Restore", type="primary", disabled=chosen is None, on_click=_restored,
              args=(admin, chosen))


main()
