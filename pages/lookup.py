"""Lookup (everyone): find a customer in a second and open their profile.

The search term lives in the URL (``?q=``), so a search can be shared and the back button
returns to it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.export_panel import export_panel
from dashboard.navigation import PAGES_DIR
from dashboard.text import counted, plain
from db.core.access import Actor, Capability, PermissionDenied
from db.core.engine import database_url, get_engine
from db.customers import restriction
from db.customers.export import ALL_CUSTOMER_COLUMNS, all_customers_file
from db.customers.grid import GridResult, update_many
from db.customers.profile import all_tags, tags_for
from db.customers.service import editable_fields
from db.customers.tags import TagEdit
from db.exports import ExportError, ExportFile
from db.models import CONTACT_CHANNELS, CUSTOMER_STATUSES
from db.search.export import LookupExport, export_results
from db.search.ranking import (
    PAGE_SIZE,
    TERM_CHARS,
    SearchFilters,
    SearchHit,
    SearchResults,
    known_countries,
    search_customers,
)
from db.users.service import UserView

ANY = "(any)"
PAGE = "lookup_page"  # (term, filters, offset) of the page of results shown
EXPORT = "lookup_export"  # the export panel's key
MARKER_NAMES = {"do_not_contact": "do not contact", "restricted": "restricted"}


@st.cache_data(ttl=300, show_spinner=False)
def _countries(actor: Actor, url: str) -> list[str]:
    return known_countries(actor, engine=get_engine(url))


def _filters(user: UserView) -> SearchFilters:
    left, middle, right = st.columns(3)
    country = left.selectbox("Country", [ANY, *_countries(user.actor, database_url())])
    status = middle.selectbox("Status", [ANY, *CUSTOMER_STATUSES])
    tag = right.selectbox("Tag", [ANY, *all_tags(user.actor)])
    return SearchFilters(country=None if country == ANY else country,
                         status=None if status == ANY else status,
                         tag=None if tag == ANY else tag)


def _results(user: UserView, hits: list[SearchHit]) -> None:
    markers = restriction.held_by(user.actor, [h.customer.id for h in hits])
    frame = pd.DataFrame([{
        "Id": h.customer.id, "Name": f"{h.customer.first_name} {h.customer.last_name}",
        "E-mail": h.customer.email or "", "Phone": h.customer.phone or "",
        "City": h.customer.city or "", "Country": h.customer.country,
        "Status": h.customer.status, "Why": h.reason,
        "Marker": ", ".join(MARKER_NAMES[kind]
                            for kind in markers.get(h.customer.id, []))}
        for h in hits])
    selection = st.dataframe(
        frame, hide_index=True, on_select="rerun", selection_mode="single-row",
        key="lookup_results", width="stretch", column_config={
            "Id": st.column_config.NumberColumn(format="%d", width="small"),
            "Country": st.column_config.TextColumn(width="small"),
            "Why": st.column_config.TextColumn(help="Why this customer matched the search"),
            "Marker": st.column_config.TextColumn(
                help="Objected (do not contact) or restricted: left out of every export")})
    st.caption("Select a row to open the customer's profile.")
    if selection.selection.rows:
        customer_id = int(frame.iloc[selection.selection.rows[0]]["Id"])
        st.switch_page(str(PAGES_DIR / "customer.py"),
                       query_params={PROFILE_STEP: str(customer_id)})


GRID_FIELDS = {"Status": "status", "City": "city", "Preferred channel": "preferred_channel",
               "Tags": "tags"}
GRID_SEEN = "lookup_grid_seen"  # what the grid's edits are made over (see _grid)
GRID_NOTE = "lookup_grid_note"  # the last save's outcome, shown after its rerun


def _grid_rows(user: UserView, hits: list[SearchHit]) -> dict[int, dict[str, object]]:
    """The listed customers' editable values as stored now, with their versions."""
    tags = tags_for(user.actor, [h.customer.id for h in hits])
    return {h.customer.id: {
        "Id": h.customer.id, "Name": f"{h.customer.first_name} {h.customer.last_name}",
        "Status": h.customer.status, "City": h.customer.city or "",
        "Preferred channel": h.customer.preferred_channel or "",
        "Tags": ", ".join(tags[h.customer.id]), "version": h.customer.version} for h in hits}


def _split_tags(typed: object) -> tuple[str, ...]:
    return tuple(str(typed or "").split(","))


def _grid(user: UserView, hits: list[SearchHit]) -> None:
    """Edit status, city, preferred channel and tags of the listed customers at once.

    Valid rows are saved together; refused rows stay as typed (the editor keeps its edits)
    with the reason listed, so nothing typed is lost. While edits are pending, a row stays
    as it was when the editing began, and is saved against that version: someone else's
    save since is refused with what they changed, never overwritten unseen (re-read on
    every run, a row always looked current and every save went through). After a save,
    the saved rows and the refused-as-stale ones are shown as stored, under the edits.
    """
    editable = editable_fields(user.actor, GRID_FIELDS.values())
    listing = ",".join(str(h.customer.id) for h in hits)
    seen = st.session_state.get(GRID_SEEN)
    if seen is None or seen["listing"] != listing:
        seen = st.session_state[GRID_SEEN] = {"listing": listing, "generation": 0,
                                               "rows": {}, "refresh": set()}
    # Keyed by the customers listed: a keyed editor keeps its edits by row number while the
    # data changes, so another page or search would otherwise inherit them. A save that
    # left nothing refused starts a new editor, so saved edits are never sent again.
    key = f"lookup_grid:{listing}" + (f"#{seen['generation']}" if seen["generation"] else "")
    pending = (st.session_state.get(key) or {}).get("edited_rows")
    stored = _grid_rows(user, hits)
    fresh = set(stored) if not pending or not seen["rows"] else seen["refresh"]
    seen["rows"].update({customer_id: stored[customer_id] for customer_id in fresh})
    seen["refresh"] = set()
    rows = [seen["rows"][h.customer.id] for h in hits]
    base = pd.DataFrame([{column: row[column] for column in
                          ("Id", "Name", "Status", "City", "Preferred channel", "Tags")}
                         for row in rows])
    locked = ["Id", "Name", *(column for column, name in GRID_FIELDS.items()
                              if name not in editable)]
    edited = st.data_editor(base, hide_index=True, num_rows="fixed", disabled=locked,
                            key=key, column_config={
        "Status": st.column_config.SelectboxColumn(options=list(CUSTOMER_STATUSES),
                                                   required=True),
        "Preferred channel": st.column_config.SelectboxColumn(options=["", *CONTACT_CHANNELS]),
        "Tags": st.column_config.TextColumn(help="Comma-separated"),
    })
    clicked = st.button("Save edited rows")
    _grid_note()
    if not clicked:
        return
    changed = []
    for row, after in zip(rows, edited.to_dict("records"), strict=True):
        changes: dict[str, object] = {
            GRID_FIELDS[column]: after[column] for column in GRID_FIELDS
            if (after[column] or "") != (row[column] or "")}
        if "tags" in changes:
            changes["tags"] = TagEdit(_split_tags(row["Tags"]), _split_tags(after["Tags"]))
        if changes:
            changed.append((int(str(row["Id"])), int(str(row["version"])), changes))
    if not changed:
        st.info("Nothing was changed.")
        return
    result = update_many(user.actor, changed)
    st.session_state[GRID_NOTE] = result
    if result.refused:
        seen["refresh"] = {*result.saved, *result.stale}
    else:
        seen["generation"] += 1
        seen["rows"] = {}
    st.rerun()


def _grid_note() -> None:
    """What the last save did: how many were saved, and each refused row with its reason."""
    result: GridResult | None = st.session_state.pop(GRID_NOTE, None)
    if result is None:
        return
    if result.saved:
        st.success(f"Saved {counted(len(result.saved), 'customer')}.")
    if result.refused:
        st.error("These rows were not saved; fix them and save again:")
        st.dataframe(pd.DataFrame([{"Id": customer_id, "Reason": reason}
                                   for customer_id, reason in result.refused.items()]),
                     hide_index=True)


SEARCH = "lookup_q"  # the search box's own state
LINKED = "lookup_q_linked"  # the ?q= this session last wrote or read
TYPED = "lookup_q_typed"  # this run follows a search typed in the box
PROFILE_STEP = "customer"  # the profile's link parameter (see _search_box)


def _typed() -> None:
    st.session_state[TYPED] = True


def _search_box() -> str:
    """The search box, kept in step with ``?q=`` both ways.

    The box keeps its own state (a key, no ``value``): created from the query parameter on
    every run, it became a new widget each time the parameter changed and every second
    search snapped back to the one before. The link fills the box only when it differs
    from what this session last wrote — a shared link, or the back button — and never on
    the run a search typed in the box starts: typing fast, that search can reach the server
    before the browser has taken the link of the one before, which is then no news.
    """
    if PROFILE_STEP in st.query_params:
        # Opening a profile from here, Streamlit first puts the profile's link on this page
        # and only then switches: the browser's Back lands on that step, without ?q=. It
        # shows the search this session had, and the link says so again (in place).
        st.query_params.from_dict({"q": st.session_state.get(LINKED, "")})
    link = st.query_params.get("q", "")
    linked = link[:TERM_CHARS]  # a link's search holds what typing can, no more
    typed = st.session_state.pop(TYPED, False)
    if SEARCH not in st.session_state or (
            not typed and linked != st.session_state.get(LINKED)):
        st.session_state[SEARCH] = linked
    term = st.text_input("Search", key=SEARCH, max_chars=TERM_CHARS, on_change=_typed,
                         placeholder="Name, e-mail, phone number, reference or id")
    if term != link:
        st.query_params["q"] = term
    st.session_state[LINKED] = term
    return term


def _offset(term: str, filters: SearchFilters) -> int:
    """Where the list starts: the page turned to, or the first for a new term or filter."""
    shown = st.session_state.get(PAGE)
    return shown[2] if shown is not None and shown[:2] == (term, filters) else 0


def _turn(term: str, filters: SearchFilters, offset: int) -> None:
    st.session_state[PAGE] = (term, filters, offset)


def _pager(term: str, filters: SearchFilters, results: SearchResults) -> None:
    """"Showing 1–50 of 1,091" between buttons to the previous and next page."""
    total = f"more than {results.total:,}" if results.more else f"{results.total:,}"
    shown = (f"{results.offset + 1:,}–{results.offset + len(results.hits):,}"
             if len(results.hits) > 1 else f"{results.offset + 1:,}")
    previous, count, following = st.columns([1, 4, 1], vertical_alignment="center")
    previous.button("Previous", icon=":material/chevron_left:", key="lookup_previous",
                    disabled=results.offset == 0, on_click=_turn,
                    args=(term, filters, max(results.offset - PAGE_SIZE, 0)))
    showing = f"Showing {shown} of {total}"
    count.text(showing)
    following.button("Next", icon=":material/chevron_right:", key="lookup_next",
                     disabled=results.offset + PAGE_SIZE >= results.listable, on_click=_turn,
                     args=(term, filters, results.offset + PAGE_SIZE))
    if results.listable < results.total or results.more:
        st.caption(f"Only the first {results.listable:,} can be listed: add a filter or more "
                   "of the name to narrow the search.")


def _export_note(made: LookupExport) -> str:
    """What the prepared file holds and why some results are not in it."""
    total = f"more than {made.total:,}" if made.more else f"{made.total:,}"
    if made.without_consent:
        held = (f"All {made.results:,}" if made.file.rows == made.results
                else f"{made.file.rows:,} of {made.results:,}")
        note = (f"{held} results are in the file, with or without e-mail marketing consent "
                "(recorded in the audit trail).")
    else:
        note = (f"{made.file.rows + made.file.withheld:,} of {made.results:,} results have "
                "e-mail marketing consent; only they are in the file.")
    if made.results < made.total or made.more:
        note += (f" Only the first {made.results:,} of {total} results can be exported: "
                 "narrow the search for the rest.")
    return note


def _export(user: UserView, term: str, filters: SearchFilters) -> None:
    """Every page of these results as a file, through the export policy of the service."""
    made = export_panel(
        user, key=EXPORT, scope=(term, filters), rows_are="customers",
        make=lambda fmt, everyone: export_results(user.actor, term, filters, fmt=fmt,
                                                  include_without_consent=everyone),
        file_of=lambda made: made.file, refusals=(ExportError, PermissionDenied))
    if made is not None:
        st.text(_export_note(made))


def _made(made: ExportFile) -> ExportFile:
    return made


def _export_all(user: UserView) -> None:
    """Admins: every customer with every importable field, as a file an import reads back."""
    if not user.actor.can(Capability.ADMINISTER):
        return
    with st.expander("Export all customers"):
        export_panel(
            user, key="export_all", scope="all", rows_are="customers",
            make=lambda fmt, _everyone: all_customers_file(user.actor, fmt=fmt),
            file_of=_made, refusals=(ExportError, PermissionDenied), consent_rule=False,
            note="Every customer, with or without consent (recorded in the audit trail), "
                 "with the columns an import reads: " + ", ".join(ALL_CUSTOMER_COLUMNS) + ".")


def _listing(user: UserView) -> None:
    """The search box, its filters and the results, with their export and edit panels."""
    term = _search_box()
    filters = _filters(user)
    results = search_customers(user.actor, term, filters, limit=PAGE_SIZE,
                               offset=_offset(term, filters))
    if not results.hits and results.offset:  # the list shrank under the page shown
        results = search_customers(user.actor, term, filters, limit=PAGE_SIZE)
    st.session_state[PAGE] = (term, filters, results.offset)
    if not results.hits:
        st.info(f"No customer matches {plain(term)!s}." if term else
                "No customer matches these filters.")
        return
    _pager(term, filters, results)
    _results(user, results.hits)
    if user.actor.can(Capability.SEGMENTS):
        with st.expander("Export these results"):
            _export(user, term, filters)
    if user.actor.can(Capability.EDIT_MARKETING_FIELDS):
        with st.expander("Edit these customers"):
            _grid(user, results.hits)


def main() -> None:
    user = require_page(Capability.LOOKUP, "Lookup")
    st.title("Customer lookup")
    _listing(user)
    _export_all(user)


main()
