"""The profile's objection and restriction markers: a badge for each that holds (everyone
who opens the profile sees it, with the reason and the date), and for admins a small form
per marker to set or clear it with a reason.

The rules (who may, a reason required, the audit) belong to
:mod:`db.customers.restriction`; this panel only asks and shows what the service answered.
"""

from __future__ import annotations

import streamlit as st

from dashboard.text import plain
from db.core.access import PermissionDenied
from db.customers.restriction import (
    LABELS,
    REASON_MAX,
    MarkerError,
    clear_marker,
    current,
    may_change,
    set_marker,
)
from db.customers.service import CustomerNotFound
from db.customers.validation import InvalidFields
from db.models import RESTRICTION_KINDS
from db.users.service import UserView

WHAT_IT_MEANS = {"do_not_contact": "do not contact them for marketing",
                 "restricted": "do not process their data beyond storing it"}


def _done_key(customer_id: int) -> str:
    return f"restriction_done_{customer_id}"


def _generation(customer_id: int, kind: str) -> int:
    return int(st.session_state.get(f"restriction_gen_{customer_id}_{kind}", 0))


def restriction_panel(user: UserView, customer_id: int) -> None:
    """Badges for the markers that hold, then (admins) the set/clear forms."""
    held = current(user.actor, customer_id)
    # One container, however many badges: the profile's tabs below keep their place in the
    # page, so the browser keeps the open tab when a marker is set or cleared.
    badges = st.container()
    for kind, marker in held.items():
        badges.error(plain(f"{LABELS[kind]} since {marker.set_at:%Y-%m-%d} (set by "
                           f"{marker.set_by}): {marker.reason}. Left out of every export; "
                           f"{WHAT_IT_MEANS[kind]}."), icon=":material/block:")
    done = st.session_state.pop(_done_key(customer_id), None)
    if done:
        badges.success(done)
    if not may_change(user.actor):
        return
    with st.expander("Objection and restriction (GDPR art. 21 and 18)"):
        columns = st.columns(len(RESTRICTION_KINDS))
        for column, kind in zip(columns, RESTRICTION_KINDS, strict=True):
            with column:
                _form(user, customer_id, kind, is_set=kind in held)


def _form(user: UserView, customer_id: int, kind: str, *, is_set: bool) -> None:
    """One marker's form: set it, or clear it when it holds, with a reason. A refusal shows
    under the field and keeps what was typed; a success empties the field."""
    verb = "Clear" if is_set else "Set"
    key = f"restriction_{customer_id}_{kind}_{_generation(customer_id, kind)}"
    with st.form(key=key):
        state = f"{LABELS[kind]}: {'set' if is_set else 'not set'}"
        st.text(state)
        reason = st.text_input("Why it is cleared" if is_set else "Reason",
                               max_chars=REASON_MAX, key=f"{key}_reason",
                               placeholder="e.g. the customer's letter of 1 December")
        submitted = st.form_submit_button(f"{verb} marker")
    if not submitted:
        return
    change = clear_marker if is_set else set_marker
    try:
        change(user.actor, customer_id, kind, reason)
    except InvalidFields as error:
        st.error(plain(" ".join(error.errors.values())))
        return
    except (MarkerError, PermissionDenied, CustomerNotFound) as error:
        st.error(plain(error))
        return
    gen_key = f"restriction_gen_{customer_id}_{kind}"
    st.session_state[gen_key] = _generation(customer_id, kind) + 1
    st.session_state[_done_key(customer_id)] = (
        f"{LABELS[kind]} {'cleared' if is_set else 'set'}; recorded in the audit trail.")
    st.rerun()
