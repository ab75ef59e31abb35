"""Import data (admin): a team's own customers, orders or contacts from CSV or Excel.

Four steps — upload, map, check, import — over :mod:`db.imports`. Everything the user chose
lives in the session (the file's bytes too), so a rerun, a step back or a click elsewhere on
the page loses nothing; changing the file or what it holds starts the mapping again. The
check writes nothing; the import writes the whole file in one transaction, once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.navigation import PAGES_DIR
from dashboard.text import plain
from db.core.access import Capability, PermissionDenied
from db.core.engine import DatabaseBusy
from db.customers.consent import NOTICE_LENGTH
from db.imports import engine
from db.imports.consent import mapped as consent_mapped
from db.imports.engine import KEPT_REJECTS, ImportRefused, Outcome, Request, refusals
from db.imports.mapping import FIELDS, KINDS, REQUIRED_ANY, suggest
from db.imports.reading import MAX_BYTES, WHITESPACE, Table, UnreadableFile, chunks, open_table
from db.imports.rows import MODE_LABELS, MODES, Options
from db.imports.saved import (
    MappingError,
    delete_mapping,
    list_mappings,
    load_mapping,
    save_mapping,
)
from db.models import ORDER_CHANNELS
from db.users.service import UserView

MB = 1024 * 1024
STEPS = ("Upload", "Map columns", "Check", "Import")
KIND_LABELS = {"customers": "Customers", "orders": "Orders",
               "interactions": "Interactions (calls, e-mails, meetings…)"}
ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with byte-order mark)", "utf-16": "UTF-16",
             "utf-16-le": "UTF-16", "utf-16-be": "UTF-16", "utf-32": "UTF-32",
             "cp1252": "Windows-1252 (Western European)", "latin-1": "Latin-1 (ISO 8859-1)"}
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars",
              WHITESPACE: "spaces"}
DATE_ORDERS = {"detect": None, "day": True, "month": False}
DATE_LABELS = {"detect": "Find out from the file (asks when a date reads both ways)",
               "day": "Day first: 03/05/2024 is 3 May (Europe)",
               "month": "Month first: 03/05/2024 is March 5 (US)"}
NOT_MAPPED = ""

# Session keys. Widgets whose choice must outlive a step they are not shown on are kept
# by _keep_choices; the file, its reading and the results are plain session values.
FILE, TABLES, STEP, CHECKED, DONE, CHOICES_FOR = (
    "imp_file", "imp_tables", "imp_step", "imp_checked", "imp_done", "imp_choices_for")
KIND, HEADER, UPLOAD = "imp_kind", "imp_header", "imp_upload"
MODE, DATES, CURRENCY, CHANNEL, CATEGORY, CREATE, COUNTRY = (
    "imp_mode", "imp_dates", "imp_currency", "imp_channel", "imp_category", "imp_create",
    "imp_country")
SAVED, SAVE_NAME, NOTICE = "imp_saved", "imp_save_name", "imp_notice"
NOTICE_VERSION = "imp_notice_version"  # the privacy notice of a file's consent columns
SHOWN_IN_UPLOADER = "imp_in_uploader"  # the kept file is the one the uploader shows
OPTION_KEYS = (MODE, DATES, CURRENCY, CHANNEL, CATEGORY, CREATE, COUNTRY, NOTICE_VERSION)


@dataclass(frozen=True)
class Upload:
    """The uploaded file as the session keeps it."""

    name: str
    data: bytes
    sha256: str


def _map_key(field: str) -> str:
    return f"imp_map_{field}"


def _choice_keys() -> list[str]:
    fields = {spec.name for specs in FIELDS.values() for spec in specs}
    return [KIND, HEADER, SAVED, SAVE_NAME, *OPTION_KEYS, *map(_map_key, sorted(fields))]


def _keep_choices() -> None:
    """Streamlit forgets a widget's value on a run that does not show it; a value written
    back through the session state is kept (the documented way across pages and steps)."""
    for key in _choice_keys():
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def upload_limit_mb() -> int:
    """The largest file the page takes: the server's upload limit or the engine's."""
    return int(min(st.get_option("server.maxUploadSize"), MAX_BYTES // MB))


def take_file(name: str, data: bytes) -> None:
    """Keep an uploaded file; a different file than before starts the later steps afresh.
    (The uploader calls this; so may a test.)"""
    digest = hashlib.sha256(data).hexdigest()
    kept: Upload | None = st.session_state.get(FILE)
    if kept is not None and (kept.sha256, kept.name) == (digest, name):
        return
    st.session_state[FILE] = Upload(name, data, digest)
    for key in (TABLES, CHECKED, DONE, CHOICES_FOR, HEADER):
        st.session_state.pop(key, None)


def _forget_file() -> None:
    for key in (FILE, TABLES, CHECKED, DONE, CHOICES_FOR, HEADER):
        st.session_state.pop(key, None)
    st.session_state[STEP] = 1


def _table(file: Upload) -> Table | str:
    """How the file reads (kept per header choice: opening a big file reads it whole), or
    why it cannot be read."""
    tables: dict[tuple[str, bool | None], Table | str] = st.session_state.setdefault(TABLES, {})
    choice: bool | None = st.session_state.get(HEADER)
    if (file.sha256, choice) not in tables:
        try:
            table: Table | str = open_table(file.data, name=file.name, has_header=choice)
        except UnreadableFile as error:
            table = str(error)
        tables[(file.sha256, choice)] = table
        if isinstance(table, Table):
            tables[(file.sha256, table.has_header)] = table
            if choice is None:
                st.session_state[HEADER] = table.has_header
    return tables[(file.sha256, choice)]


def _sync_choices(file: Upload, kind: str, table: Table) -> None:
    """Fill the mapping with the suggestion (and the options with their defaults) whenever
    the file, what it holds or its header changed since they were chosen."""
    marker = (file.sha256, kind, table.has_header)
    if st.session_state.get(CHOICES_FOR) == marker:
        return
    st.session_state[CHOICES_FOR] = marker
    _set_mapping(kind, table, suggest(kind, table.columns))
    _set_options(Options.house())
    for key in (CHECKED, DONE, SAVED):
        st.session_state.pop(key, None)


def _set_mapping(kind: str, table: Table, mapping: dict[str, str | None]) -> list[str]:
    """Put ``mapping`` into the field pickers; returns the columns it names that the file
    lacks (those fields are left unmapped)."""
    missing = []
    for spec in FIELDS[kind]:
        column = mapping.get(spec.name)
        if column and column not in table.columns:
            missing.append(column)
            column = None
        st.session_state[_map_key(spec.name)] = column or NOT_MAPPED
    return missing


def _set_options(options: Options) -> None:
    day = {value: key for key, value in DATE_ORDERS.items()}
    st.session_state.update({
        MODE: options.mode, DATES: day[options.day_first], CURRENCY: options.currency,
        CHANNEL: options.channel, CATEGORY: options.category,
        CREATE: options.create_customers, COUNTRY: options.country or "",
        NOTICE_VERSION: options.notice_version or ""})


def _mapping(kind: str) -> dict[str, str | None]:
    return {spec.name: st.session_state.get(_map_key(spec.name)) or None
            for spec in FIELDS[kind]}


def _options() -> Options:
    state = st.session_state
    return Options(mode=state[MODE], day_first=DATE_ORDERS[state[DATES]],
                   currency=state[CURRENCY].strip(), channel=state[CHANNEL],
                   category=state[CATEGORY].strip(), create_customers=state[CREATE],
                   country=state[COUNTRY].strip() or None,
                   notice_version=state.get(NOTICE_VERSION, "").strip() or None)


def _fingerprint(request: Request, file: Upload) -> tuple[Any, ...]:
    """What a check's result holds for: the same file read the same way, mapped the same."""
    return (file.sha256, request.kind, request.table.has_header,
            tuple(sorted((k, v) for k, v in request.mapping.items() if v)), request.options)


def _go(step: int) -> None:
    st.session_state[STEP] = step


def _steps(current: int) -> None:
    # "1\." : a line starting "1." would be a numbered list. Fixed text only.
    parts = [f"**{number}\\. {label}**" if number == current else f"{number}\\. {label}"
             for number, label in enumerate(STEPS, 1)]
    st.markdown(" → ".join(parts))


def _notice() -> None:
    """A message a callback left for the next run (a callback's own output vanishes)."""
    notice = st.session_state.pop(NOTICE, None)
    if notice is not None:
        kind, text = notice
        (st.success if kind == "success" else st.error)(plain(text))


# -- step 1 -------------------------------------------------------------------------------

def _upload_step(file: Upload | None, table: Table | str | None) -> None:
    st.caption(f"CSV or text (any encoding; commas, semicolons, tabs or spaces) or Excel "
               f"(.xlsx, its first sheet), up to {upload_limit_mb()} MB. Larger files: split "
               "them, each part with the header row. Nothing is written until step 4.")
    st.radio("What does the file hold?", KINDS, format_func=KIND_LABELS.__getitem__, key=KIND,
             horizontal=True)
    uploaded = st.file_uploader("File to import", type=["csv", "txt", "tsv", "xlsx"],
                                key=UPLOAD)
    if uploaded is not None:
        take_file(uploaded.name, uploaded.getvalue())
        st.session_state[SHOWN_IN_UPLOADER] = True
        file = st.session_state[FILE]
        table = _table(file)
    elif st.session_state.pop(SHOWN_IN_UPLOADER, False):
        _forget_file()  # the user removed it from the uploader
        return
    if file is None or table is None:
        return
    if uploaded is None:
        left, right = st.columns([4, 1], vertical_alignment="center")
        current = f"Current file: {file.name} ({len(file.data) / 1024:,.0f} KB)"
        left.text(current)
        right.button("Remove", key="imp_remove", on_click=_forget_file)
    if isinstance(table, str):
        st.error(plain(table))
        st.caption("Choose another file above; nothing was read into the database.")
        return
    _describe(table)
    st.checkbox("The first row holds column names (untick when it is already data)",
                key=HEADER)
    st.button("Next: map the columns", type="primary", icon=":material/arrow_forward:",
              key="imp_to_map", on_click=_go, args=(2,))


def _describe(table: Table) -> None:
    if table.format == "xlsx":
        how = "Excel workbook, first sheet"
    else:
        encoding = table.encoding or ""
        how = (f"Text in {ENCODINGS.get(encoding, encoding)}, separated by "
               f"{DELIMITERS.get(table.delimiter or ',', 'commas')}")
    rows = ("rows counted during the check" if table.rows is None
            else f"{table.rows:,} data row{'s' * (table.rows != 1)}")
    header = "column names in the first row" if table.has_header else "no header row"
    read_as = f"Read as: {how}; {header}; {rows}."
    st.text(read_as)
    columns = f"{len(table.columns)} columns: " + " | ".join(table.columns)
    st.text(columns)


# -- step 2 -------------------------------------------------------------------------------

def _map_step(user: UserView, file: Upload, kind: str, table: Table) -> None:
    title = f"{file.name}: {KIND_LABELS[kind].lower()}"
    st.text(title)
    _saved_picker(user, kind, table)
    st.subheader("Which column holds what")
    st.caption("Fields marked * are needed for every row. Suggested from the column names; "
               "change any that are wrong.")
    choices = [NOT_MAPPED, *table.columns]
    columns = st.columns(3)
    for index, spec in enumerate(FIELDS[kind]):
        if st.session_state.get(_map_key(spec.name)) not in choices:
            st.session_state[_map_key(spec.name)] = NOT_MAPPED
        columns[index % 3].selectbox(
            spec.label + (" *" if spec.required else ""), choices, key=_map_key(spec.name),
            format_func=lambda column: column or "— not in the file —")
    labels = {spec.name: spec.label for spec in FIELDS[kind]}
    for group in REQUIRED_ANY[kind]:
        st.caption("At least one of: " + " or ".join(labels[name] for name in group) + ".")
    _options_form(kind)
    mapping = _mapping(kind)
    request = Request(kind, file.data, table, mapping, _options())
    _preview(file, table, kind, mapping)
    try:
        problems = refusals(request)
    except UnreadableFile as error:
        problems = [str(error)]
    if problems:
        st.warning("Before the check:\n\n" + "\n".join(f"- {plain(p)}" for p in problems))
    _save_form(user, kind, mapping, request.options)
    back, forward = st.columns([1, 3])
    back.button("Back", icon=":material/arrow_back:", key="imp_back_1", on_click=_go,
                args=(1,))
    if forward.button("Check the file", type="primary", icon=":material/fact_check:",
                      key="imp_check", disabled=bool(problems)):
        _run_check(user, request, file)


def _options_form(kind: str) -> None:
    st.subheader("What the file leaves open")
    left, right = st.columns(2)
    if kind == "customers":
        left.radio("Customers already stored", MODES, format_func=MODE_LABELS.__getitem__,
                   key=MODE, help="A row is the stored customer with the same customer "
                   "number, or else the same e-mail address (letter case and spaces ignored).")
        left.text_input("Country of new customers, when the file has none (ISO code or "
                        "name)", max_chars=56, key=COUNTRY,
                        help="Used only for customers this import creates; a stored "
                             "customer's country is never changed by it.")
        asked = consent_mapped(_mapping(kind))
        left.text_input("Privacy notice version of the consent columns"
                         + (" *" if asked else ""), max_chars=NOTICE_LENGTH,
                         key=NOTICE_VERSION, placeholder="e.g. 2026-02",
                         help="The version of the privacy notice under which the customers "
                              "gave the consent the file states; needed when a consent "
                              "column is mapped. A consent cell that differs from the "
                              "customer's current state is recorded as a new consent row "
                              "(source: import), by you.")
    else:
        same = ("order number (or, without one, the same customer, date, amount and product)"
                if kind == "orders" else "customer, time, kind and subject")
        left.caption("Each row's customer is found by customer number, or else by e-mail. A "
                     f"row already imported (same {same}) is not added again.")
    right.radio("Dates such as 03/05/2024", list(DATE_ORDERS),
                format_func=DATE_LABELS.__getitem__, key=DATES)
    if kind != "orders":
        return
    first, second, third = st.columns(3)
    first.text_input("Currency when the file has none", max_chars=3, key=CURRENCY)
    second.selectbox("Channel when the file has none", ORDER_CHANNELS, key=CHANNEL)
    third.text_input("Category when the file has none", max_chars=50, key=CATEGORY)
    left, right = st.columns(2)
    left.checkbox("Create customers for unknown customer numbers or e-mails", key=CREATE,
                  help="A shop's order log often has only a customer number: each unknown "
                       "one becomes a minimal customer you can complete later.")
    right.text_input("Country of those customers, when the file has none (ISO code)",
                     max_chars=56, key=COUNTRY, disabled=not st.session_state[CREATE])


def _preview(file: Upload, table: Table, kind: str, mapping: dict[str, str | None]) -> None:
    st.subheader("The first rows, under the fields they feed")
    first = next(chunks(file.data, table, size=10), None)
    labels = {spec.name: spec.label for spec in FIELDS[kind]}
    shown = {name: column for name, column in mapping.items() if column}
    if first is None or not shown:
        st.caption("Map a column to see it here.")
        return
    frame = pd.DataFrame({"Line": first["line"],
                          **{labels[name]: first[column] for name, column in shown.items()}})
    st.dataframe(frame, hide_index=True, width="stretch")  # cells as text, never Markdown


def _saved_picker(user: UserView, kind: str, table: Table) -> None:
    saved = [m.name for m in list_mappings(user.actor, kind)]
    if not saved:
        st.caption("No saved mappings yet for this kind of file: save this one below once "
                   "it fits, to reuse it next time.")
        return
    if st.session_state.get(SAVED) not in [NOT_MAPPED, *saved]:
        st.session_state[SAVED] = NOT_MAPPED
    picker, use, delete = st.columns([3, 1, 1], vertical_alignment="bottom")
    picker.selectbox("Saved mapping", [NOT_MAPPED, *saved], key=SAVED,
                     format_func=lambda name: name or "— the suggestion —")
    use.button("Use", key="imp_use_saved", on_click=_use_saved, args=(user, kind, table))
    delete.button("Delete", key="imp_delete_saved", on_click=_delete_saved, args=(user, kind),
                  disabled=not st.session_state.get(SAVED))


def _use_saved(user: UserView, kind: str, table: Table) -> None:
    name = st.session_state.get(SAVED)
    if not name:
        _set_mapping(kind, table, suggest(kind, table.columns))
        return
    try:
        mapping, options = load_mapping(user.actor, kind, name)
    except MappingError as error:
        st.session_state[NOTICE] = ("error", str(error))
        return
    missing = _set_mapping(kind, table, mapping)
    _set_options(options)
    text = f"Using “{name}”."
    if missing:
        text += " This file has no column " + ", ".join(f"“{c}”" for c in missing) + \
            "; choose the columns for those fields."
    st.session_state[NOTICE] = ("error" if missing else "success", text)


def _delete_saved(user: UserView, kind: str) -> None:
    name = st.session_state.get(SAVED)
    try:
        delete_mapping(user.actor, kind, name or "")
    except MappingError as error:
        st.session_state[NOTICE] = ("error", str(error))
        return
    st.session_state[SAVED] = NOT_MAPPED
    st.session_state[NOTICE] = ("success", f"Deleted the saved mapping “{name}”.")


def _save_form(user: UserView, kind: str, mapping: dict[str, str | None],
               options: Options) -> None:
    name_box, save = st.columns([3, 1], vertical_alignment="bottom")
    name_box.text_input("Save this mapping as…", max_chars=100, key=SAVE_NAME,
                        placeholder="e.g. Shop export", help="A mapping of that name is "
                        "replaced. Saved with the matching, date and default choices.")
    if save.button("Save mapping", key="imp_save", icon=":material/save:"):
        try:
            saved = save_mapping(user.actor, kind, st.session_state[SAVE_NAME], mapping,
                                 options)
        except (MappingError, PermissionDenied) as error:
            st.error(plain(error))
            return
        st.session_state[NOTICE] = ("success", f"Saved the mapping “{saved.name}”.")
        st.rerun()


# -- steps 3 and 4 ------------------------------------------------------------------------

def _progress_bar(verb: str) -> tuple[Any, engine.Progress]:
    holder = st.empty()
    bar = holder.progress(0.0, text=f"{verb}…")

    def report(done: int, total: int | None, seconds: float) -> None:
        rate = f"{done / seconds:,.0f} rows/s" if seconds > 0 else ""
        if total:
            bar.progress(min(done / total, 1.0),
                         text=f"{verb}: {done:,} of {total:,} rows · {rate}")
        else:
            bar.progress(0.0, text=f"{verb}: {done:,} rows · {rate}")
    return holder, report


def _run_check(user: UserView, request: Request, file: Upload) -> None:
    holder, report = _progress_bar("Checking")
    try:
        outcome = engine.check(user.actor, request, progress=report)
    except (ImportRefused, PermissionDenied, ValueError) as error:
        holder.empty()
        st.error(plain(error))
        return
    st.session_state[CHECKED] = (_fingerprint(request, file), outcome)
    _go(3)
    st.rerun()


def _counts(outcome: Outcome, kind: str) -> None:
    shown = [("New", outcome.new), ("Updated", outcome.updated),
             ("Unchanged", outcome.unchanged), ("Rejected", outcome.rejected)]
    if kind == "orders":
        shown.append(("Customers created" if outcome.import_id else "Customers to create",
                      outcome.created))
    if kind == "customers" and (outcome.consent or consent_mapped(_mapping(kind))):
        shown.append(("Consent changes recorded" if outcome.import_id
                      else "Consent changes to record", outcome.consent))
    for column, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, f"{value:,}")


def _check_step(file: Upload, kind: str, table: Table, outcome: Outcome) -> None:
    st.success(f"Checked {outcome.rows:,} rows in {outcome.seconds:.1f} s. Nothing has been "
               "written yet.")
    _counts(outcome, kind)
    if outcome.duplicates:
        st.subheader("Repeated inside the file")
        st.caption("The first row with a key is read; the rows repeating it are rejected.")
        st.dataframe(pd.DataFrame({
            "Key": list(outcome.duplicates),
            "Lines": [", ".join(map(str, lines)) for lines in outcome.duplicates.values()]}),
            hide_index=True, width="stretch")
    if outcome.rejected:
        st.subheader("Rejected rows")
        if outcome.rejected > len(outcome.rejects):
            st.caption(f"The first {len(outcome.rejects):,} of {outcome.rejected:,} are listed "
                       f"(at most {KEPT_REJECTS:,}); the download holds the same.")
        frame = pd.DataFrame([{"Line": reject.line, "Reason": reject.reason,
                               **{column: reject.cells.get(column, "") for column in
                                  table.columns}} for reject in outcome.rejects])
        # The reason is the one column a person must read whole: give it the room.
        st.dataframe(frame, hide_index=True, width="stretch", column_config={
            "Line": st.column_config.NumberColumn(format="%d", width="small"),
            "Reason": st.column_config.TextColumn(width="large")})
        stem = PurePath(file.name).stem or "import"
        st.download_button("Download the rejected rows (CSV)",
                           outcome.rejects_file(table.columns),
                           file_name=f"{stem}-rejected.csv", mime="text/csv",
                           icon=":material/file_download:", on_click="ignore",
                           key="imp_rejects")
        st.caption("Fix them in the file (or in the download) and import that once more: "
                   "rows already imported are matched, not added twice.")
    back, forward = st.columns([1, 3])
    back.button("Back to the mapping", icon=":material/arrow_back:", key="imp_back_2",
                on_click=_go, args=(2,))
    forward.button("Next: import", type="primary", icon=":material/arrow_forward:",
                   key="imp_to_commit", on_click=_go, args=(4,),
                   disabled=outcome.rows == outcome.rejected)


def _commit_step(user: UserView, request: Request, file: Upload, checked: Outcome) -> None:
    fingerprint = _fingerprint(request, file)
    done = st.session_state.get(DONE)
    if done is not None and done[0] == fingerprint:
        _result(done[1])
        return
    accepted = checked.rows - checked.rejected
    summary = (f"{file.name}: {accepted:,} rows to import as {request.kind} "
               f"({checked.new:,} new, {checked.updated:,} updated, {checked.unchanged:,} "
               f"unchanged); {_rows(checked.rejected, 'rejected row')} left out."
               + (f" {checked.consent:,} consent changes to record." if checked.consent
                  else ""))
    st.text(summary)
    st.caption("The whole file is written in one transaction: every accepted row or, if "
               "anything fails, none. Importing the same file again adds nothing.")
    back, forward = st.columns([1, 3])
    back.button("Back to the check", icon=":material/arrow_back:", key="imp_back_3",
                on_click=_go, args=(3,))
    if not forward.button(f"Import {_rows(accepted)}", type="primary",
                          icon=":material/upload:", key="imp_commit"):
        return
    if st.session_state.get(DONE, (None,))[0] == fingerprint:
        return  # a second click after the import finished imports nothing
    holder, report = _progress_bar("Importing")
    try:
        outcome = engine.commit(user.actor, request, progress=report)
    except (ImportRefused, DatabaseBusy, PermissionDenied, ValueError) as error:
        holder.empty()
        st.error(plain(error))
        st.caption("Nothing was written. Go back a step to change the file or the mapping, "
                   "or try again.")
        return
    st.session_state[DONE] = (fingerprint, outcome)
    st.rerun()


def _rows(count: int, noun: str = "row") -> str:
    """``1 row``, ``2 rows``."""
    return f"{count:,} {noun}{'s' * (count != 1)}"


def _result(outcome: Outcome) -> None:
    st.success(f"Import {outcome.import_id} is committed: {outcome.rows:,} rows read in "
               f"{outcome.seconds:.1f} s.")
    _counts(outcome, outcome.kind)
    st.caption(f"Every changed customer's history says “changed by import "
               f"{outcome.import_id}”; the audit trail holds the import with its file's "
               "SHA-256.")
    link, again = st.columns([3, 1])
    with link:
        st.page_link(str(PAGES_DIR / "lookup.py"), label="Find the customers in Lookup",
                     icon=":material/search:")
    again.button("Import another file", key="imp_again", on_click=_forget_file)


def main() -> None:
    user = require_page(Capability.ADMINISTER, "Import data")
    _keep_choices()
    st.session_state.setdefault(KIND, KINDS[0])
    st.session_state.setdefault(STEP, 1)
    st.title("Import data")
    file: Upload | None = st.session_state.get(FILE)
    table = _table(file) if file is not None else None
    kind: str = st.session_state[KIND]
    if isinstance(table, Table) and file is not None:
        _sync_choices(file, kind, table)
    step = st.session_state[STEP]
    if step > 1 and not isinstance(table, Table):
        step = 1
    request = None
    if isinstance(table, Table) and file is not None and step > 1:
        request = Request(kind, file.data, table, _mapping(kind), _options())
    checked = st.session_state.get(CHECKED)
    if step > 2 and (request is None or file is None or checked is None
                     or checked[0] != _fingerprint(request, file)):
        step = 2  # the choices changed since the check: check again
    st.session_state[STEP] = step
    if step != 1:
        st.session_state.pop(SHOWN_IN_UPLOADER, None)  # the uploader is empty when back
    _steps(step)
    _notice()
    if step == 1:
        _upload_step(file, table)
    elif step == 2:
        assert file is not None and isinstance(table, Table)
        _map_step(user, file, kind, table)
    elif step == 3:
        assert file is not None and isinstance(table, Table) and checked is not None
        _check_step(file, kind, table, checked[1])
    else:
        assert file is not None and request is not None and checked is not None
        _commit_step(user, request, file, checked[1])


main()
