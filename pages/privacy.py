"""Privacy (admin): what concerns many customers at once — the retention report with its bulk
anonymisation, and lifting an address off the suppression list. Requests about one person
(a copy of their data, erasure) are made on their profile's Privacy tab."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.filling import rerun_when
from dashboard.holder import holder
from dashboard.text import plain
from db.core.access import Capability, PermissionDenied
from db.customers import suppression
from db.customers.validation import InvalidValue
from db.kpi.board import data_version
from db.privacy import retention
from db.users.service import UserView

DONE = "privacy_done"  # a result to show once after the rerun that follows a change
# {"address", "at" (monotonic time)} of this session's last lift, a dashboard.holder: the
# next Streamlit call after the lift is a point where a click stops the run.
LIFTED = "privacy_lifted"
# A second click on the same button within this many seconds is the same request: it finds
# the work done and must not say the opposite of the first click.
SAME_REQUEST_SECONDS = 30


def _retention(user: UserView) -> None:
    st.subheader("Retention")
    version = data_version()
    _, report = retention.past_retention_of_version(user.actor, version)
    if report is None:
        if retention.retention_report_failed(version):
            st.error("Finding the customers past retention failed (the server's log says "
                     "why).")
            return
        st.info("Finding the customers past the retention period; they appear here when "
                "done.")
        rerun_when(lambda: retention.past_retention_of_version(user.actor, version,
                                                               wait_s=0)[0]
                   or retention.retention_report_failed(version))
        return
    years = f"{report.years} year" + ("" if report.years == 1 else "s")
    st.caption(f"Customers with no order, no contact and no new record for {years} "
               f"(the retention period, set on the Settings page): their last "
               f"activity is before {report.cutoff:%Y-%m-%d}. Anonymising erases them as "
               "an erasure does, keeping their orders under a pseudonym, but leaves their "
               "e-mail off the suppression list.")
    if not report.total:
        st.success("No customer is past the retention period.")
        return
    st.dataframe(pd.DataFrame([{
        "Id": c.id, "Name": c.name, "Country": c.country,
        "Last activity (UTC)": c.last_activity, "Deleted": c.deleted}
        for c in report.customers]), hide_index=True, width="stretch", column_config={
        "Last activity (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD")})
    if report.total > len(report.customers):
        st.caption(f"The {len(report.customers):,} longest inactive of {report.total:,}.")
    with st.form("retention_anonymise"):
        typed = st.text_input(f"To anonymise all {report.total:,}, type {report.total}",
                              key="retention_confirm")
        if not st.form_submit_button(f"Anonymise all {report.total:,}", type="primary"):
            return
    try:
        done = retention.anonymise_past_retention(user.actor, confirmation=typed)
    except (retention.RetentionRefused, PermissionDenied) as refused:
        st.error(plain(str(refused)))
        return
    # Zero: a second click (or another admin) found the work done by the first.
    st.session_state[DONE] = (f"Anonymised {done:,} customers past the retention period."
                              if done else "No customer was left to anonymise: those "
                              "listed were anonymised meanwhile.")
    st.session_state.pop("retention_confirm", None)
    st.rerun()


def _suppression(user: UserView) -> None:
    st.subheader("Suppression list")
    st.caption("The e-mail addresses of erased people, kept only as keyed hashes: forms and "
               "imports refuse them. Lift the block only when the person asks to become a "
               "customer again.")
    with st.form("suppression_lift"):
        email = st.text_input("E-mail address to take off the list", key="lift_email")
        if not st.form_submit_button("Lift the block"):
            return
    if not email.strip():
        st.error("Type the e-mail address to take off the list.")
        return
    typed = email.strip().casefold()
    last = holder(LIFTED)
    same_request = (last.get("address") == typed
                    and time.monotonic() - last.get("at", 0.0) < SAME_REQUEST_SECONDS)
    try:
        lifted = suppression.lift(user.actor, email)
        if lifted:  # no Streamlit call between the lift and this
            last.update(address=typed, at=time.monotonic())
    except (InvalidValue, PermissionDenied) as refused:
        st.error(plain(str(refused)))
        return
    if not (lifted or same_request):
        st.info("That address is not on the suppression list.")
        return
    st.session_state[DONE] = "Lifted: the address can be added again."
    st.session_state.pop("lift_email", None)
    st.rerun()


def main() -> None:
    user = require_page(Capability.ADMINISTER, "Privacy")
    st.title("Privacy")
    st.caption("A copy of one customer's data, or their erasure: open the customer and use "
               "the Privacy tab.")
    if message := st.session_state.pop(DONE, None):
        st.success(message)
    _retention(user)
    _suppression(user)


main()
