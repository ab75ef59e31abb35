"""Audit (admin, manager): who changed what, when, and from what — and proof it is untouched."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.date_bounds import EARLIEST, LATEST
from dashboard.text import format_when, plain
from db.audit.keys import AuditKeyError
from db.audit.search import (
    AuditFilter,
    AuditPage,
    export_csv,
    field_changes,
    filter_options,
    search_events,
)
from db.audit.trail import AnchorRefused, describe, may_verify, take_anchor, verify
from db.core.access import Capability
from db.users.service import UserView

ANY = "(any)"
CURSORS = "audit_cursors"  # before_id of each page shown so far; the last is the current page


def _filters(user: UserView) -> AuditFilter:
    options = filter_options(user.actor)
    columns = st.columns([2, 2, 2, 1.5, 1.5, 1.5])
    actor = columns[0].selectbox("User", [ANY, *options["actor"]])
    action = columns[1].selectbox("Action", [ANY, *options["action"]])
    entity = columns[2].selectbox("Record type", [ANY, *options["entity"]])
    entity_id = columns[3].text_input("Record id", max_chars=64,
                                      help="e.g. a customer's id; needs a record type")
    since = columns[4].date_input("From (UTC)", value=None, format="YYYY-MM-DD",
                                  min_value=EARLIEST, max_value=LATEST)
    until = columns[5].date_input("To (UTC)", value=None, format="YYYY-MM-DD",
                                  min_value=EARLIEST, max_value=LATEST)
    return AuditFilter(
        actor=None if actor == ANY else actor, action=None if action == ANY else action,
        entity=None if entity == ANY else entity, entity_id=entity_id.strip() or None,
        since=since, until=until)


def _page(user: UserView, filters: AuditFilter) -> AuditPage | None:
    # A change of filters starts again at the newest event.
    if st.session_state.get("audit_filters") != filters:
        st.session_state["audit_filters"] = filters
        st.session_state[CURSORS] = [None]
        st.session_state.pop("audit_export", None)
    try:
        return search_events(user.actor, filters, before_id=st.session_state[CURSORS][-1])
    except ValueError as error:
        st.error(plain(error))
        return None


def _table(page: AuditPage) -> None:
    frame = pd.DataFrame([{
        "Id": e.id, "When (UTC)": e.at, "User": e.actor, "Action": e.action,
        "Record type": e.entity, "Record id": e.entity_id or "", "Source": e.source,
    } for e in page.events])
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "When (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})


def _chosen_event(page: AuditPage) -> int | None:
    labels = {e.id: f"{e.id} · {e.action} · {e.entity} {e.entity_id or ''}"
              for e in page.events}
    return st.selectbox("Show the changes of event", list(labels), index=None,
                        format_func=labels.__getitem__, placeholder="Choose an event")


def _pager(page: AuditPage) -> None:
    cursors: list[int | None] = st.session_state[CURSORS]
    left, middle, right = st.columns([1, 3, 1])
    if left.button("← Newer", disabled=len(cursors) == 1, width="stretch"):
        cursors.pop()
        st.rerun()
    middle.caption(f"Page {len(cursors)} · newest first")
    if right.button("Older →", disabled=page.next_before_id is None, width="stretch"):
        cursors.append(page.next_before_id)
        st.rerun()


def _detail(page: AuditPage, event_id: int) -> None:
    event = next(e for e in page.events if e.id == event_id)
    st.subheader(plain(f"Event {event.id}: {event.action}"))
    summary = (f"{format_when(event.at)} · by {event.actor} · via {event.source} · "
               f"{event.entity} {event.entity_id or ''}")
    st.text(summary)
    changes = field_changes(event)
    if changes:
        st.dataframe(pd.DataFrame([{
            "Field": c.field, "Old": "—" if c.old is None else str(c.old),
            "New": "—" if c.new is None else str(c.new)} for c in changes]),
            hide_index=True, width="stretch")
    else:
        st.caption("No field changes recorded for this event.")
    st.caption(f"Hash {event.hash} · previous {event.prev_hash}")


def _export(user: UserView, filters: AuditFilter) -> None:
    # Two steps, because an export is itself audited: one event per export, not per rerun.
    if st.button("Prepare CSV export of the filtered events"):
        text, count, truncated = export_csv(user.actor, filters)
        st.session_state["audit_export"] = (text, count, truncated)
    if prepared := st.session_state.get("audit_export"):
        text, count, truncated = prepared
        if truncated:
            st.warning(f"The export stops at the newest {count:,} events; narrow the filters "
                       "to export the rest.")
        st.download_button(f"Download {count:,} events (CSV)", text,
                           file_name="custdb-audit.csv", mime="text/csv")


def _verify(user: UserView) -> None:
    if not may_verify(user.actor):
        return
    anchor = st.text_area(
        "Anchor to check against (optional)", height=120,
        help="Paste an anchor taken earlier (below, or by python -m db.audit anchor) to also "
             "prove that no event up to it was cut from the end or rewritten.")
    if st.button("Verify the hash chain"):
        with st.spinner("Checking every event…"):
            report = verify(user.actor, anchor=anchor.strip() or None)
        message = describe(report)
        if report.ok:
            st.success(plain(message))
        elif report.unusable:
            st.warning(plain(message))
        else:
            st.error(plain(message))


def _anchor(user: UserView) -> None:
    if not may_verify(user.actor):
        return
    if st.button("Take an anchor of the newest event"):
        try:
            st.session_state["audit_anchor"] = take_anchor(user.actor).to_text()
        except (AnchorRefused, AuditKeyError) as error:
            st.session_state.pop("audit_anchor", None)
            st.error(str(error))
    if text := st.session_state.get("audit_anchor"):
        st.caption("Keep this anchor where the database's writers cannot change it (a ticket, "
                   "an e-mail): checked against it later, the chain proves nothing up to its "
                   "event was cut or rewritten.")
        st.code(text, language="json")
        st.download_button("Download the anchor", text, file_name="custdb-audit-anchor.json",
                           mime="application/json")


def main() -> None:
    user = require_page(Capability.VIEW_AUDIT, "Audit")
    st.title("Audit trail")
    filters = _filters(user)
    page = _page(user, filters)
    if page is None:
        return
    if not page.events:
        st.info("No events match these filters.")
    else:
        _table(page)
        _pager(page)
        if (selected := _chosen_event(page)) is not None:
            _detail(page, selected)
    with st.expander("Export, verification and anchors"):
        _export(user, filters)
        _verify(user)
        _anchor(user)


main()
