"""Segments (admin, manager, marketing): build a target group, see it live, save, export.

Three views, of which only the chosen one runs: the builder (definition editor beside a live
preview and the save form), the saved segments (sizes, history, open, duplicate, delete,
export) and the overlap of two to four saved segments.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import segment_editor as editor
from dashboard.access import require_page
from dashboard.charts import (
    build_breakdown_chart,
    build_overlap_heatmap,
    build_size_history_chart,
)
from dashboard.export_panel import export_panel
from dashboard.holder import holder
from dashboard.text import format_when, plain
from db.core.access import Actor, Capability, PermissionDenied
from db.kpi.board import data_version
from db.models import Segment
from db.segments import export, preview, service, sizes
from db.segments.definition import Group, InvalidDefinition, only_unfilled, problems
from db.segments.membership import SegmentChanged, SegmentError, SegmentNotFound
from db.users.service import UserView

VIEWS = ("Builder", "Saved segments", "Overlap")
VIEW = "segments_view"
# {"id", "version", "name", "description", "kind", "owner"} of the segment being edited, {}
# for a new one: a dashboard.holder, so a save's new version cannot be cut off after it.
EDITING = "segment_editing"
NOTICE = "segment_notice"
PROBLEM = "segment_problem"
EXPORT = "segment_export"  # the export panel's key
CHOSEN = "segments_chosen"  # the saved segment selected in the list
KIND_LABELS = {"dynamic": "Dynamic: members are re-evaluated whenever it is used",
               "static": "Static: a snapshot of today's members"}
SEGMENT_ERRORS = (SegmentError, SegmentNotFound, InvalidDefinition, PermissionDenied)


@st.cache_data(ttl=300, show_spinner=False)
def _options(role: str, username: str) -> dict[str, list[str]]:
    return preview.field_options(Actor(username, role))


def _everyone(role: str, username: str) -> pd.DataFrame:
    """The breakdowns' "all customers" side: the same for every definition, counted once
    per data version for every session (started in the background when the page opens)."""
    return preview.population(Actor(username, role), version=data_version())


@st.cache_data(ttl=30, show_spinner="Counting…")
def _preview(role: str, username: str, definition_json: str) -> preview.Preview:
    """Cached by definition for half a minute: reruns while editing do not recount."""
    return preview.preview(Actor(username, role), Group.model_validate_json(definition_json),
                           everyone=_everyone(role, username))


def _draft() -> dict:
    if editor.DRAFT not in st.session_state:
        root = editor.new_group()
        root["children"].append(editor.new_condition())
        st.session_state[editor.DRAFT] = root
    return st.session_state[editor.DRAFT]


def _editing(segment: Segment) -> dict:
    return {"id": segment.id, "version": segment.version, "name": segment.name,
            "description": segment.description or "", "kind": segment.kind,
            "owner": segment.owner}


def _start_over() -> None:
    holder(EDITING).clear()  # first: a draft kept without it is only saved as new
    st.session_state.pop(editor.DRAFT, None)


def _win_back() -> None:
    """Start the builder from the win-back list (a button callback, before the editor)."""
    st.session_state.pop(EDITING, None)
    st.session_state[editor.DRAFT] = editor.from_definition(editor.WIN_BACK)


def _open(segment_id: int, user: UserView) -> None:
    """Load a saved segment into the builder (a button callback: it runs before the view
    switch is drawn, so it may set the view)."""
    try:
        segment = service.get_segment(user.actor, segment_id)
    except SEGMENT_ERRORS as error:
        st.session_state[PROBLEM] = plain(error)
        return
    loaded = editor.from_definition(service.definition_of(segment))
    draft, editing = _draft(), holder(EDITING)
    # The definition and what it is saved over change together: no Streamlit call between.
    draft.clear()
    draft.update(loaded)
    editing.clear()
    editing.update(_editing(segment))
    st.session_state[VIEW] = "Builder"


def _duplicate(segment_id: int, user: UserView) -> None:
    """Copy a saved segment and select the copy (a button callback: it runs before the
    segment list is drawn, so it may choose the list's selection)."""
    try:
        copy = service.duplicate_segment(user.actor, segment_id)
    except service.AlreadyDuplicated as already:  # a double click's second click
        st.session_state[CHOSEN] = already.copy.id
        st.session_state[NOTICE] = plain(already)
        return
    except SEGMENT_ERRORS as error:
        st.session_state[PROBLEM] = plain(error)
        return
    st.session_state[NOTICE] = f"Duplicated as “{plain(copy.name)}”."
    st.session_state[CHOSEN] = copy.id


# -- builder --------------------------------------------------------------------------


def _builder(user: UserView) -> None:
    draft = _draft()
    editing = holder(EDITING)
    if editing:
        st.info(f"Editing “{plain(editing['name'])}” (owner {plain(editing['owner'])}).")
    names = service.segment_names(user.actor, usable_in=editing["id"] if editing else None)
    left, right = st.columns([5, 3], gap="large")
    with left:
        st.subheader("Definition")
        if editor.render(draft, _options(user.role, user.username), names):
            st.rerun()
        definition = editor.to_definition(draft)
        found = problems(definition)
        st.button("Win-back list", icon=":material/person_search:", on_click=_win_back,
                  key="segment_win_back",
                  help=f"Start from: probability active below {editor.AT_RISK_BELOW} and "
                       f"12-month value above {editor.WIN_BACK_VALUE} (the newest fit's "
                       "scores). Replaces the definition above.")
        with st.popover("Start over", icon=":material/restart_alt:"):
            st.markdown("Clear the definition and the save form? Saved segments are not "
                        "touched.")
            st.button("Clear the definition", key="segment_start_over", on_click=_start_over)
        _save_form(user, definition, editing, bool(found))
    with right:
        st.subheader("Preview")
        if only_unfilled(definition, found):
            st.info("Give each condition a value to see who matches.")
        elif found:
            st.warning(f"Fix the {len(found)} marked condition(s) to see who matches.")
        else:
            _show_preview(user, definition)


def _show_preview(user: UserView, definition: Group) -> None:
    try:
        shown = _preview(user.role, user.username, definition.model_dump_json())
    except SEGMENT_ERRORS as error:
        st.error(plain(error))
        return
    first, second, third = st.columns(3)
    first.metric("Members", f"{shown.count:,}")
    second.metric("Share", f"{shown.share:.1%}", help="Of all customers")
    third.metric("Emailable", f"{shown.emailable:,}",
                 help="Members with an email address who granted email-marketing consent "
                      "and have neither objected to contact nor had processing restricted")
    if shown.count == 0:
        st.caption("No customer matches this definition.")
        return
    sample = shown.sample.assign(profile=[f"/customer?customer={i}" for i in shown.sample["id"]])
    st.dataframe(sample, hide_index=True, width="stretch", column_config={
        "id": st.column_config.NumberColumn("Id", format="%d", width="small"),
        "name": "Name", "country": "Country", "city": "City",
        "emailable": st.column_config.CheckboxColumn("Email consent"),
        "profile": st.column_config.LinkColumn("Profile", display_text="Open"),
    })
    st.caption(f"The first {len(shown.sample)} members by id.")
    for frame, title in ((shown.by_country, "Country"), (shown.by_age, "Age band"),
                         (shown.by_spend, "Total spend (EUR)")):
        st.altair_chart(build_breakdown_chart(frame, title), width="stretch")


def _save_form(user: UserView, definition: Group, editing: dict,
               has_problems: bool) -> None:
    st.subheader("Save")
    with st.form("segment_save"):
        name = st.text_input("Name", value=editing["name"] if editing else "", max_chars=100)
        description = st.text_area("Description", value=editing["description"] if editing
                                   else "", max_chars=1000, height=80)
        kinds = list(KIND_LABELS)
        kind = st.radio("Kind", kinds, index=kinds.index(editing["kind"]) if editing else 0,
                        format_func=KIND_LABELS.__getitem__)
        buttons = st.columns(2)
        save_changes = bool(editing) and buttons[0].form_submit_button(
            "Save changes", type="primary", disabled=has_problems)
        save_new = buttons[1 if editing else 0].form_submit_button(
            "Save as new segment" if editing else "Save segment",
            type="secondary" if editing else "primary", disabled=has_problems)
    if not (save_changes or save_new):
        return
    try:
        if save_changes:
            saved = service.update_segment(
                user.actor, editing["id"], expected_version=editing["version"], name=name,
                description=description, kind=kind, definition=definition)
        else:
            saved = service.save_segment(user.actor, name=name, description=description,
                                         kind=kind, definition=definition)
        # No Streamlit call between the commit and this: a click arriving now cannot cut it.
        editing.update(_editing(saved))
    except SegmentChanged as error:
        st.error(plain(error))
        st.info("Your definition is still in the builder: save it as a new segment, or open "
                "their version in its place.")
        st.button("Open their version", on_click=_open, args=(editing["id"], user))
        return
    except SEGMENT_ERRORS as error:
        st.error(plain(error))
        return
    st.session_state[NOTICE] = f"Saved “{plain(saved.name)}”."
    st.rerun()


# -- saved segments -------------------------------------------------------------------


@st.cache_data(ttl=60, show_spinner="Counting members…")
def _saved_rows(role: str, username: str, stamp: tuple[int, str]) -> list[sizes.SegmentRow]:
    """Sizes are recounted at most once a minute, and whenever a segment changes (stamp)."""
    return sizes.list_segments(Actor(username, role))


def _saved(user: UserView) -> None:
    rows = _saved_rows(user.role, user.username, service.catalogue_stamp(user.actor))
    if not rows:
        st.info("No saved segments yet. Build one in the builder and save it.")
        return
    table = pd.DataFrame([{
        "Name": row.name, "Kind": row.kind,
        "Members": row.size if row.size >= 0 else None, "Owner": row.owner,
        "Last change": format_when(row.updated_at),
        "Snapshot": format_when(row.snapshot_at) if row.snapshot_at else "",
        "Description": row.description or ""} for row in rows])
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Members": st.column_config.NumberColumn(format="localized")})
    if any(row.size < 0 for row in rows):
        st.warning("A segment without a member count refers to a deleted segment or has a "
                   "condition that needs fixing; open it in the builder and change that.")
    by_id = {row.id: row for row in rows}
    if st.session_state.get(CHOSEN) not in by_id:
        st.session_state.pop(CHOSEN, None)  # deleted meanwhile: the list's first
    chosen = st.selectbox("Segment", list(by_id), format_func=lambda i: by_id[i].name,
                          key=CHOSEN)
    row = by_id[chosen]
    actions = st.columns(4)
    actions[0].button("Open in builder", icon=":material/edit:", on_click=_open,
                      args=(row.id, user))
    actions[1].button("Duplicate", icon=":material/content_copy:", on_click=_duplicate,
                      args=(row.id, user))
    with actions[2].popover("Delete", icon=":material/delete:",
                            disabled=not service.may_change(user.actor, row)):
        st.markdown(f"Delete “{plain(row.name)}” for everyone? Its history goes with it.")
        # Keyed by the segment: a second click sent before the page redrew is a click on
        # this segment's button, which the next run no longer draws, not on the next one's.
        if st.button("Delete for good", type="primary", key=f"segment_delete_{row.id}"):
            try:
                service.delete_segment(user.actor, row.id)
            except SEGMENT_ERRORS as error:
                st.error(plain(error))
            else:
                st.session_state[NOTICE] = f"Deleted “{plain(row.name)}”."
                st.rerun()
    _export(user, row.id)
    history = sizes.size_history(user.actor, row.id)
    st.markdown("**Size history** (the first count of each day)")
    st.altair_chart(build_size_history_chart(history), width="stretch")


def _export(user: UserView, segment_id: int) -> None:
    st.markdown("**Export members**")
    export_panel(user, key=EXPORT, scope=segment_id, rows_are="members",
                 make=lambda fmt, everyone: export.export_members(
                     user.actor, segment_id, fmt=fmt, include_without_consent=everyone),
                 file_of=lambda exported: exported, refusals=SEGMENT_ERRORS)


# -- overlap --------------------------------------------------------------------------


def _overlap(user: UserView) -> None:
    names = service.segment_names(user.actor)
    if len(names) < 2:
        st.info("Save at least two segments to compare them.")
        return
    chosen = st.multiselect("Segments to compare (2 to 4)", list(names), max_selections=4,
                            format_func=names.__getitem__, key="segments_overlap")
    if len(chosen) < 2:
        st.caption("Choose two to four segments.")
        return
    try:
        overlap = sizes.overlap(user.actor, chosen)
    except SEGMENT_ERRORS as error:
        st.error(plain(error))
        return
    st.dataframe(overlap.rename(columns={
        "first": "Segment", "second": "Other segment", "both": "In both",
        "first_size": "Segment size", "second_size": "Other size"}),
        hide_index=True, width="stretch")
    st.altair_chart(build_overlap_heatmap(overlap), width="content")


user = require_page(Capability.SEGMENTS, "Segments")
st.title("Segments")
preview.warm_population(user.actor, data_version())
if notice := st.session_state.pop(NOTICE, None):
    st.success(notice)
if problem := st.session_state.pop(PROBLEM, None):
    st.error(problem)  # escaped when it was stored
st.session_state.setdefault(VIEW, "Builder")
view = st.segmented_control("View", VIEWS, key=VIEW, label_visibility="collapsed")
if view == "Saved segments":
    _saved(user)
elif view == "Overlap":
    _overlap(user)
else:
    _builder(user)
