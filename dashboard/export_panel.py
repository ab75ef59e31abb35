"""The export controls every page that exports customers shows: format, the admins' consent
override, "Prepare export" and the download, laid out and worded the same everywhere.

The policy itself (who may export, whose rows, the formula-safe writer) belongs to
:mod:`db.exports`; this panel only asks for the choices and keeps the prepared file for the
session, as long as the rows it was made from and the choices stay the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from dashboard.text import plain
from db.core.access import Capability
from db.exports import EXPORT_FORMATS, ExportFile
from db.users.service import UserView

FORMAT_NAMES = {"csv": "CSV", "xlsx": "Excel"}
Made = TypeVar("Made")


def export_panel(user: UserView, *, key: str, scope: object, rows_are: str,
                 make: Callable[[str, bool], Made], file_of: Callable[[Made], ExportFile],
                 refusals: tuple[type[Exception], ...], consent_rule: bool = True,
                 format_names: dict[str, str] | None = None,
                 note: str | None = None) -> Made | None:
    """Ask for a format (and, for admins, whether to include ``rows_are`` without e-mail
    marketing consent), prepare the file with ``make(format, everyone)`` on request and
    offer it for download.

    ``scope`` names what the rows come from (a segment, a search): a file prepared for
    another scope or other choices is dropped. Returns what ``make`` returned while it is
    current, so the page can say more about it; an exception in ``refusals`` is shown as
    the reason instead. An export the consent rule does not apply to (one customer's own
    record, an admin's whole table; ``consent_rule=False``) shows ``note`` instead of the
    consent choice; ``format_names`` renames the formats (Excel first when given first).
    Under the download it says how many were left out because they objected or their
    processing is restricted (``ExportFile.withheld``).
    """
    names = format_names or FORMAT_NAMES
    columns = st.columns([1.2, 2, 1.5], vertical_alignment="bottom")
    fmt = columns[0].radio("Format", [name for name in names if name in EXPORT_FORMATS],
                           horizontal=True, format_func=names.__getitem__,
                           key=f"{key}_format")
    everyone = False
    if not consent_rule:
        if note:
            columns[1].caption(note)
    elif user.actor.can(Capability.EXPORT_WITHOUT_CONSENT):
        everyone = columns[1].checkbox(
            f"Include {rows_are} without e-mail marketing consent", key=f"{key}_everyone",
            help="Recorded in the audit trail. Only for purposes that need no consent.")
    else:
        columns[1].caption(f"Only {rows_are} who granted e-mail marketing consent are "
                           "exported.")
    choice = (scope, fmt, everyone)
    prepared = st.session_state.get(key)
    if prepared is not None and prepared[0] != choice:
        st.session_state.pop(key)
    if columns[2].button("Prepare export", icon=":material/download:", key=f"{key}_prepare"):
        try:
            st.session_state[key] = (choice, make(fmt, everyone))
        except refusals as error:
            st.error(plain(error))
            return None
    if key not in st.session_state:
        return None
    made: Made = st.session_state[key][1]
    file = file_of(made)
    st.download_button(f"Download {file.filename} ({file.rows:,} {rows_are})", file.data,
                       file_name=file.filename, mime=file.mime,
                       icon=":material/file_download:", on_click="ignore")
    if file.withheld:
        left_out = (f"Left out of this file: {file.withheld:,} who objected to contact or "
                    "whose processing is restricted (no export holds them).")
        st.text(left_out)
    return made
