"""Database (admin): engine, size, rows per table, schema revision, backups, audit chain."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.filling import rerun_when
from dashboard.holder import holder
from dashboard.text import format_when, plain
from db.backup.copy import BackupError, back_up, pg_dump_command, pg_restore_command
from db.backup.facts import (
    DatabaseFacts,
    check_audit_chain,
    database_facts,
    newest_backup,
    table_rows_failed,
    table_rows_of_version,
)
from db.core.access import Capability
from db.core.engine import DatabaseBusy
from db.kpi.board import data_version
from db.users.service import UserView

# {"path", "size", "at" (monotonic time)} of this session's backup, a dashboard.holder: the
# spinner closing after the copy is a point where a click stops the run.
WRITTEN = "database_backup_written"
# A second click on "Back up now" within this many seconds of a backup this session wrote
# is the same request (a double click): it shows that backup instead of writing another.
SAME_REQUEST_SECONDS = 10


def size_text(size: int) -> str:
    """``size`` bytes as people read them: 1.2 GB, 340.5 MB, 12 KB."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit in ("bytes", "KB") else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GB"  # not reached


def _summary(found: DatabaseFacts) -> None:
    engine, size, schema = st.columns(3)
    engine.metric("Engine", f"{found.engine} {found.version}")
    size.metric("Size on disk", size_text(found.size), help=found.size_detail)
    schema.metric("Schema revision", found.revision or "none")
    st.text("Database: " + found.location)
    if found.schema_current:
        st.caption("The schema is at the newest revision this version of custdb has.")
    else:
        st.warning(plain(f"The schema is at {found.revision or 'no revision'}, but this "
                         f"version of custdb expects {', '.join(found.heads)}: run "
                         "python -m db.migrate (make run does it)."))


def _tables(user: UserView) -> None:
    """Counted once per data version in the background: seconds at a million customers."""
    st.subheader("Rows per table")
    version = data_version()
    _, tables = table_rows_of_version(user.actor, version)
    if tables is None:
        if table_rows_failed(version):
            st.error("Counting the rows failed (the server's log says why).")
            return
        st.info("Counting the rows of every table; they appear here when done.")
        rerun_when(lambda: table_rows_of_version(user.actor, version, wait_s=0)[0]
                   or table_rows_failed(version))
        return
    st.dataframe(pd.DataFrame([{
        "Table": row.name, "Rows": row.rows, "Counted": "exactly" if row.exact else "about",
    } for row in tables]), hide_index=True, width="stretch",
        column_config={"Rows": st.column_config.NumberColumn(format="localized")})
    if not all(row.exact for row in tables):
        st.caption("\"about\": PostgreSQL's own estimate (pg_class.reltuples) for large "
                   "tables, which counting exactly would take seconds on every visit.")


def _back_up(user: UserView) -> None:
    written = holder(WRITTEN)
    if written and time.monotonic() - written["at"] < SAME_REQUEST_SECONDS:
        return
    try:
        with st.spinner("Copying the database…"):
            path = back_up(user.actor)
            # Before the spinner closes: no Streamlit call between the backup and this.
            written.update(path=str(path), size=path.stat().st_size, at=time.monotonic())
    except BackupError as error:  # the message says no backup was made, and why
        written.clear()
        st.error(plain(error))
    except DatabaseBusy as error:  # the copy was made but could not be audited: removed
        written.clear()
        st.error(plain(f"No backup was kept: {error}"))


def _backups(user: UserView, found: DatabaseFacts) -> None:
    st.subheader("Backups")
    if found.engine != "SQLite":
        st.write("custdb does not back up PostgreSQL itself: run pg_dump on a machine that "
                 "reaches the server (give the password through PGPASSWORD or ~/.pgpass):")
        st.code(pg_dump_command(found.location), language="bash")
        st.write("Restore such a dump (the app stopped) with:")
        st.code(pg_restore_command(found.location), language="bash")
        return
    newest = found.newest_backup
    if st.button("Back up now", type="primary"):
        _back_up(user)
        newest = newest_backup(found.backup_folder)  # the one just written
        if written := holder(WRITTEN):  # shown after this click only
            st.success(plain(f"Backup written: {written['path']} "
                             f"({size_text(written['size'])})."))
    newest_line = (f"Newest backup: {newest.path.name}, {size_text(newest.size)}, written "
                   f"{format_when(newest.written_at)}" if newest is not None
                   else f"No backup yet in {found.backup_folder}.")
    st.text(newest_line)
    st.caption("A backup is a consistent copy taken while the app runs (SQLite's online "
               "backup API). The README says how to restore one; python -m db.backup makes "
               "one from the command line, e.g. every night.")


def _audit_chain(user: UserView) -> None:
    st.subheader("Audit chain")
    st.caption("Walks every audit event and checks its keyed hash: about 20 seconds per "
               "million events, so it runs only when asked.")
    if st.button("Verify audit chain"):
        with st.spinner("Checking every event…"):
            status = check_audit_chain(user.actor)
        if status.ok:
            st.success(plain(status.message))
        elif status.could_not_judge:
            st.warning(plain(status.message))
        else:
            st.error(plain(status.message))


def main() -> None:
    user = require_page(Capability.ADMINISTER, "the database panel")
    st.title("Database")
    found = database_facts(user.actor, count_rows=False)
    _summary(found)
    _tables(user)
    _backups(user, found)
    _audit_chain(user)


main()
