"""Data quality (admin, manager): what is missing, invalid or stale in the live customers'
records; every figure opens the list of those customers, which can be exported or saved as a
static segment (e.g. for a re-permission campaign)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.export_panel import export_panel
from dashboard.filling import rerun_when
from dashboard.text import format_when, plain
from db.core.access import Capability, PermissionDenied
from db.core.engine import database_url, get_engine
from db.exports import ExportError, ExportFile
from db.quality import lists, report, snapshot
from db.quality.report import FIELD_LABELS, FIELDS, QualityReport
from db.segments.membership import SegmentError
from db.users.service import UserView

CHOSEN = "quality_list"  # the list shown: (check, field)
EXPORT = "quality_export"  # the export panel's key
SAVED = "quality_saved"  # a notice to show once after a segment was saved
AGAIN = "quality_check_again"


def _check(user: UserView, url: str) -> tuple[snapshot.StoredCheck | None, bool]:
    """The newest check, and whether it still describes the records. When it does not, a
    check starts in the background. After a change of records the page waits for it a
    moment (:data:`db.core.background.PAGE_WAIT_S`: a small database's check is done by then);
    a check that takes longer, or one only older than 15 minutes, fills the page in when
    done (:func:`dashboard.filling.rerun_when`)."""
    engine = get_engine(url)
    known = snapshot.latest(user.actor, engine=engine)
    state = "changed" if known is None else snapshot.freshness(user.actor, known,
                                                               engine=engine)
    if state == "current":
        return known, True
    if snapshot.failed(engine):
        return known, False
    snapshot.start(user.actor, engine=engine)
    if state == "changed" and snapshot.wait(engine):
        known = snapshot.latest(user.actor, engine=engine)
        return known, known is not None and not snapshot.failed(engine)
    return known, False


def _checking(user: UserView, url: str, known: snapshot.StoredCheck | None) -> None:
    """Say what the page shows while a check runs, or after one failed."""
    engine = get_engine(url)
    if snapshot.running(engine):
        if known is None:
            st.info("Checking every record for the first time: at a million customers this "
                    "takes about a minute. The figures appear here when it is done.")
        else:
            st.info(f"Showing the check of {format_when(known.report.as_of)}. Records changed "
                    "since, or it is more than 15 minutes old: checking again, the figures "
                    "update here when done.")
        rerun_when(lambda: not snapshot.running(engine))
    elif snapshot.failed(engine):
        st.error("Checking the records failed (the server's log says why)."
                 + ("" if known is None else " The figures below are from "
                    f"{format_when(known.report.as_of)}."))
        if st.button("Check again", key=AGAIN):
            snapshot.start(user.actor, engine=engine)
            st.rerun()
    else:  # the check ended a moment ago: show its figures
        st.rerun()


def _choices(figures: QualityReport) -> dict[tuple[str, str | None], str]:
    """Every list, by (check, field), with its label and count, in the page's order."""
    choices: dict[tuple[str, str | None], int] = {
        ("invalid_email", None): figures.invalid_email,
        ("invalid_phone", None): figures.invalid_phone,
        ("impossible_birth_date", None): figures.impossible_birth_date,
        ("stale", None): figures.stale}
    choices |= {("missing", field): figures.missing[field] for field in FIELDS}
    return {key: f"{lists.list_name(*key)} ({count:,})" for key, count in choices.items()}


def _completeness(figures: QualityReport) -> None:
    st.subheader("Completeness")
    table = pd.DataFrame([{"Field": FIELD_LABELS[field], "Missing": figures.missing[field],
                           "Share missing": figures.share_missing(field),
                           "Filled": 1 - figures.share_missing(field)} for field in FIELDS])
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Missing": st.column_config.NumberColumn(format="localized"),
        "Share missing": st.column_config.NumberColumn(format="percent"),
        "Filled": st.column_config.ProgressColumn(format="percent", min_value=0,
                                                  max_value=1)})


def _validity(figures: QualityReport) -> None:
    st.subheader("Validity and freshness")
    columns = st.columns(4)
    columns[0].metric("Invalid e-mails", f"{figures.invalid_email:,}",
                      help="Stored addresses the e-mail check of the edit form refuses today.")
    columns[1].metric("Invalid phones", f"{figures.invalid_phone:,}",
                      help="Stored numbers that are not a valid number when read in the "
                           "customer's country.")
    columns[2].metric("Impossible birth dates", f"{figures.impossible_birth_date:,}",
                      help="In the future, or making the customer older than the edit "
                           "form allows.")
    columns[3].metric("Stale records", f"{figures.stale:,}",
                      help="Records nobody edited or re-imported since "
                           f"{figures.stale_before:%Y-%m-%d %H:%M} UTC.")
    st.caption(f"Stale: not updated for more than {figures.stale_after_days} days (the stale "
               "threshold, a setting). Orders, contacts and consent changes do not count as "
               "an update: only editing or re-importing the customer's details does.")


def _list(user: UserView, known: snapshot.StoredCheck) -> None:
    st.subheader("Customers behind a figure")
    choices = _choices(known.report)
    keys = list(choices)
    chosen: tuple[str, str | None] = st.selectbox(
        "List", keys, format_func=choices.__getitem__, key=CHOSEN)
    check, field = chosen
    try:
        rows = report.customers_with(user.actor, check, field,
                                     listed=known.lists)
    except (report.QualityError, PermissionDenied) as error:
        st.error(plain(error))
        return
    if not rows:
        st.success("Nobody is on this list.")
        return
    # Names and values as plain text: st.dataframe never renders a cell as Markdown or HTML.
    st.dataframe(pd.DataFrame([{
        "Id": row.id, "First name": row.first_name, "Last name": row.last_name,
        "E-mail": row.email or "", "Phone": row.phone or "", "Country": row.country,
        "Birth date": row.birth_date, "Last updated": format_when(row.updated_at)}
        for row in rows]), hide_index=True, width="stretch")
    if len(rows) >= report.LIST_LIMIT:
        st.caption(f"The first {len(rows):,} by id; the export and the segment take "
                   "everyone on the list.")
    with st.expander("Export this list"):
        export_panel(user, key=EXPORT, scope=chosen, rows_are="customers",
                     make=lambda fmt, everyone: lists.export_list(
                         user.actor, check, field, fmt=fmt,
                         include_without_consent=everyone),
                     file_of=_file, refusals=(ExportError, PermissionDenied,
                                              report.QualityError))
    with st.expander("Save as static segment"):
        _save_segment(user, check, field)


def _file(made: ExportFile) -> ExportFile:
    return made


def _save_segment(user: UserView, check: str, field: str | None) -> None:
    st.caption("A static segment of everyone on this list now, owned by you, e.g. for a "
               "re-permission campaign; it does not change when the records are fixed.")
    with st.form("quality_segment"):
        name = st.text_input("Segment name", max_chars=100, key="quality_segment_name")
        if not st.form_submit_button("Save as static segment"):
            return
    try:
        saved = lists.save_as_segment(user.actor, check, field, name=name)
    except (SegmentError, PermissionDenied, report.QualityError) as error:
        st.error(plain(error))
        return
    st.session_state[SAVED] = f"Saved the static segment “{saved.name}” (Segments page)."
    st.session_state.pop("quality_segment_name", None)
    st.rerun()


def main() -> None:
    user = require_page(Capability.EDIT_CUSTOMER, "Data quality")
    st.title("Data quality")
    if notice := st.session_state.pop(SAVED, None):
        st.success(plain(notice))
    url = database_url()
    known, current = _check(user, url)
    if not current:
        _checking(user, url, known)
    if known is None:
        return
    figures = known.report
    st.caption(f"{figures.customers:,} live customers, checked "
               f"{format_when(figures.as_of)}.")
    if not figures.customers:
        st.info("There are no customers to check yet.")
        return
    _completeness(figures)
    _validity(figures)
    _list(user, known)


main()
