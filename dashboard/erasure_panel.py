"""The profile's erasure section (admins): what an erasure removes and keeps, and the typed
confirmation the service checks (:func:`db.privacy.erasure.erase_customer`)."""

from __future__ import annotations

import streamlit as st

from dashboard.text import plain
from db.core.access import Capability, PermissionDenied
from db.customers.service import CustomerNotFound
from db.privacy.erasure import ErasureRefused, erase_customer
from db.users.service import UserView

DONE_KEY = "erasure_done"  # the result, shown once on the erased profile after the rerun


def erasure_section(user: UserView, customer_id: int) -> None:
    """Explain, ask for the customer's e-mail address or number, erase, and rerun: the page
    then shows what remains (the pseudonym)."""
    if not user.actor.can(Capability.ADMINISTER):
        return
    st.subheader("Erase this customer (right to erasure)")
    st.caption(
        "For a person who asks to be forgotten. Their name, e-mail, phone, address, birth "
        "date and other details, the text of their contacts and feedback, their payment "
        "methods, tags and static-segment places are removed for good, and their values are "
        "redacted from the audit trail. Their orders stay in the figures under a random "
        "pseudonym. Their e-mail goes on the suppression list, so an import or the "
        "new-customer form will not add them again unnoticed. This cannot be undone, and it "
        "does not reach backups taken before it or files already exported.")
    with st.form(f"erase_{customer_id}"):
        typed = st.text_input(f"To confirm, type the customer's e-mail address or their "
                              f"number ({customer_id})", key=f"erase_confirm_{customer_id}")
        if not st.form_submit_button("Erase this customer for good", type="primary"):
            return
    try:
        done = erase_customer(user.actor, customer_id, confirmation=typed)
    except (ErasureRefused, CustomerNotFound, PermissionDenied) as refused:
        st.error(plain(str(refused)))
        return
    notes = [f"Erased: customer {customer_id} is now {done.pseudonym}.",
             f"{done.redacted_events:,} audit events redacted."]
    if done.unredactable_events:
        notes.append(f"{done.unredactable_events:,} audit events written before details were "
                     "sealed still hold their values: they cannot be redacted without "
                     "breaking the audit chain.")
    if done.suppressed:
        notes.append("Their e-mail address is on the suppression list.")
    st.session_state[DONE_KEY] = " ".join(notes)
    st.rerun()


def erased_notice() -> None:
    """The result of an erasure just made in this session, once."""
    if message := st.session_state.pop(DONE_KEY, None):
        st.success(message)
