"""The profile's Privacy tab (admins only): the customers' rights over their data, one
section each under its own subheader — the subject access request here; erasure and
restriction join as further sections of :func:`privacy_tab`.

Each section asks the service in :mod:`db.privacy`, which checks the role and audits; this
module only lays out the buttons and keeps a prepared file for the session.
"""

from __future__ import annotations

import streamlit as st

from dashboard.text import plain
from db.audit.keys import AuditKeyError
from db.core.access import Capability, PermissionDenied
from db.core.engine import DatabaseBusy
from db.customers.service import CustomerNotFound
from db.privacy.access_request import PARTS, AccessRequest, access_request
from db.users.service import UserView

# What a failed request says, by what went wrong; nothing was handed out in any of them.
REFUSALS = (PermissionDenied, CustomerNotFound, DatabaseBusy, AuditKeyError)


def privacy_tab(user: UserView, customer_id: int) -> None:
    """The tab's sections; the profile shows the tab to admins only, and the services
    refuse anyone else."""
    if not user.actor.can(Capability.ADMINISTER):
        st.info("Only admins handle the customers' privacy requests.")
        return
    access_request_section(user, customer_id)


def _size(data: bytes) -> str:
    return f"{len(data) / 1024:,.1f} KB" if len(data) >= 1024 else f"{len(data)} bytes"


def access_request_section(user: UserView, customer_id: int) -> None:
    """Build the subject access request's zip on request, then offer it for download."""
    st.subheader("Subject access request")
    st.caption("Everything held about this customer, in one zip: "
               + ", ".join(part.replace("_", " ") for part in PARTS)
               + " — each as JSON and as CSV, with a README saying what each file is. "
                 "Building it is recorded in the audit trail; hand the file to the customer "
                 "over a secure channel and do not keep copies.")
    key = f"access_request_{customer_id}"
    if st.button("Build access request", key=f"{key}_build", icon=":material/folder_zip:"):
        st.session_state.pop(key, None)
        try:
            st.session_state[key] = access_request(user.actor, customer_id)
        except REFUSALS as error:
            st.error(plain(f"The access request could not be built: {error} Nothing was "
                           "handed out; try again, or ask the operator."))
            return
    made: AccessRequest | None = st.session_state.get(key)
    if made is None:
        return
    st.download_button(f"Download {made.filename} ({_size(made.data)})", made.data,
                       file_name=made.filename, mime=made.mime, key=f"{key}_download",
                       icon=":material/file_download:", on_click="ignore")
    st.caption("Rows: " + ", ".join(f"{part.replace('_', ' ')} {rows:,}"
                                    for part, rows in made.rows.items()))
