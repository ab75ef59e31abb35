"""The profile's Consent tab: the current state per purpose, one form to grant or withdraw,
and the full history with who recorded each row from which source and notice.

Withdrawing is as easy as granting: the same form, one choice apart. The form writes through
:func:`db.customers.consent.record_consent`, which validates, audits and records the acting
user as the recorder; a refusal shows beside the form and everything chosen stays.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.text import plain
from db.core.access import Capability
from db.customers import consent, restriction
from db.customers.service import CustomerNotFound
from db.customers.validation import InvalidFields
from db.models import CONSENT_PURPOSES
from db.users.service import UserView

CHANGES = ("Grant", "Withdraw")
SOURCE_LABELS = {"form": "form (signed or in person)", "phone": "phone call",
                 "web": "website", "email": "e-mail", "import": "file import"}


def key(customer_id: int, name: str) -> str:
    """The session-state key of the consent form's ``name`` for ``customer_id``."""
    return f"consent_{customer_id}_{name}"


def _label(purpose: str) -> str:
    return purpose.replace("_", " ")


def _source(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


def consent_tab(user: UserView, customer_id: int) -> None:
    history = consent.history(user.actor, customer_id)
    state = consent.current(history)
    st.dataframe(pd.DataFrame([{
        "Purpose": _label(purpose), "Now": consent.state_word(record),
        "Since (UTC)": None if record is None else record.at,
        "Source": "" if record is None else _source(record.source),
        "Notice": "" if record is None else record.notice_version,
        "Recorded by": "" if record is None else record.recorded_by or "(no account)"}
        for purpose, record in state.items()]),
        hide_index=True, column_config={"Since (UTC)": st.column_config.DatetimeColumn(
            format="YYYY-MM-DD HH:mm")})
    if user.actor.can(Capability.EDIT_MARKETING_FIELDS):
        if objection := restriction.current(user.actor, customer_id).get("do_not_contact"):
            st.warning(f"This customer objected to contact on {objection.set_at:%Y-%m-%d}: "
                       "a consent recorded here does not lift that, and no export holds "
                       "them until an admin clears the objection.")
        _form(user, customer_id, newest_notice=history[0].notice_version if history else "")
    if history:
        st.caption("History, newest first")
        st.dataframe(pd.DataFrame([{
            "When (UTC)": record.at, "Purpose": _label(record.purpose),
            "Change": "granted" if record.granted else "withdrawn",
            "Source": _source(record.source), "Notice": record.notice_version,
            "Recorded by": record.recorded_by or "(no account)"} for record in history]),
            hide_index=True, column_config={"When (UTC)": st.column_config.DatetimeColumn(
                format="YYYY-MM-DD HH:mm")})
    else:
        st.info("No consent recorded yet: every purpose counts as not granted.")


def _form(user: UserView, customer_id: int, *, newest_notice: str) -> None:
    with st.form(key(customer_id, "form")):
        st.markdown("**Record a grant or withdrawal**")
        left, middle = st.columns(2)
        purpose = left.selectbox("Purpose", CONSENT_PURPOSES, format_func=_label,
                                 key=key(customer_id, "purpose"))
        change = middle.radio("Change", CHANGES, horizontal=True,
                              key=key(customer_id, "change"))
        left, middle = st.columns(2)
        source = left.selectbox("Source", consent.RECORDED_SOURCES, index=None,
                                format_func=_source, placeholder="Where did it come from?",
                                key=key(customer_id, "source"))
        notice = middle.text_input("Privacy notice version", value=newest_notice,
                                   max_chars=consent.NOTICE_LENGTH,
                                   key=key(customer_id, "notice"),
                                   help="The version of the privacy notice the customer saw.")
        if not st.form_submit_button("Record"):
            return
    try:
        consent.record_consent(user.actor, customer_id, purpose=purpose,
                               granted=change == "Grant", source=source or "",
                               notice_version=notice)
    except InvalidFields as error:
        for field, message in error.errors.items():
            st.error(plain(f"{field.replace('_', ' ').capitalize()}: {message}"))
    except CustomerNotFound as error:
        st.error(plain(str(error)))
    except consent.AlreadyRecorded as already:  # a second click: the first one recorded it
        st.info(plain(str(already)))
    else:
        done = "granted" if change == "Grant" else "withdrawn"
        st.toast(f"{_label(purpose).capitalize()}: {done}.")
        st.rerun()
