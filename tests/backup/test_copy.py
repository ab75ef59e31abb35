"""Backups: a consistent, complete copy of a live SQLite database; refused for non-admins
and on PostgreSQL (with the pg_dump command); failures leave nothing behind."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlmodel import col

from db.backup import copy
from db.backup.copy import BackupError, BackupNotSupported, back_up
from db.core.access import PermissionDenied
from db.core.engine import make_engine, read_session
from db.customers.profile import set_tags
from db.customers.service import create_customer
from db.models import AuditEvent
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING

NAME = re.compile(r"^custdb-\d{8}-\d{6}(-\d+)?\.sqlite$")
# The tables a customer's creation writes (the writer thread below only creates customers).
WRITTEN_BY_CREATE = {"customer": "id", "customer_summary": "customer_id",
                     "customer_search": "rowid", "customer_name_word": "customer_id",
                     "audit_event": "id"}
# A table a creation writes that names no customer: its rows as of the newest customer held.
AS_OF_CUSTOMER = {"customer_name_vocabulary":
                  "SELECT DISTINCT word FROM customer_name_word WHERE customer_id <= ?"}


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> tuple[Engine, Path]:
    """A migrated SQLite database at ``<tmp>/data/custdb.sqlite``, and its path."""
    path = tmp_path / "data" / "custdb.sqlite"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine, path
    engine.dispose()


def _fill(engine: Engine) -> None:
    for n in range(5):
        customer = factories.customer(engine, f"First{n}", f"Last{n}",
                                      email=f"person{n}@example.com", city="Köln")
        assert customer.id is not None
        factories.order(engine, customer.id, f"{n + 1}9.90")
        factories.contact(engine, customer.id, f"Call {n}")
        set_tags(ADMIN, customer.id, ["vip", f"t{n}"], engine=engine)
    factories.user(engine, "clerk", "manager")


def _rows(path: Path, name: str, key: str | None = None,
          upto: int | None = None) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        columns = "rowid, *" if name == "customer_search" else "*"
        where = "" if key is None else " WHERE " + key + " <= " + str(upto)
        rows = connection.execute("SELECT " + columns + ' FROM "' + name + '"' + where).fetchall()
    connection.close()
    return sorted(rows, key=repr)


def _tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        names = [n for (n,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE 'customer_search_%'")]
    connection.close()
    return names


def test_backup_holds_every_row_of_every_table_while_another_connection_writes(
        sqlite_db: tuple[Engine, Path]) -> None:
    engine, path = sqlite_db
    _fill(engine)
    writer_engine = make_engine(f"sqlite:///{path}")  # the app's other connection
    stop, started, created = threading.Event(), threading.Event(), [0]

    def write() -> None:
        while not stop.is_set():
            create_customer(ADMIN, {"first_name": "Busy", "last_name": f"Writer{created[0]}",
                                    "country": "DE"}, engine=writer_engine, confirm=True)
            created[0] += 1
            if created[0] == 3:
                started.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert started.wait(30)
        during = created[0]
        backup = back_up(ADMIN, engine=engine)
        while created[0] < during + 3 and thread.is_alive():  # it wrote on after, too
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
        writer_engine.dispose()

    with sqlite3.connect(backup) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        newest_customer, = connection.execute("SELECT max(id) FROM customer").fetchone()
        newest_event = connection.execute(
            "SELECT id, action, entity_id FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
    connection.close()
    # One snapshot: the newest event it holds is the creation of the newest customer it holds.
    assert newest_event[1:] == ("customer.create", str(newest_customer))
    assert _tables(backup) == _tables(path)
    compared = 0
    for name in _tables(path):
        key = WRITTEN_BY_CREATE.get(name)
        upto = newest_event[0] if name == "audit_event" else newest_customer
        if name in AS_OF_CUSTOMER:
            with sqlite3.connect(path) as connection:
                source = sorted(connection.execute(AS_OF_CUSTOMER[name],
                                                   (newest_customer,)).fetchall(), key=repr)
            connection.close()
        else:
            source = _rows(path, name, key, upto if key else None)
        assert _rows(backup, name) == source, name
        compared += len(source)
    assert compared > 50
    assert _rows(path, "customer", "id", 10**9) != _rows(backup, "customer")  # writes went on


def test_backup_name_is_a_utc_timestamp_and_never_overwrites(
        sqlite_db: tuple[Engine, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    engine, path = sqlite_db
    monkeypatch.setattr(copy, "utcnow", lambda: datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    folder = path.parent / "backups"
    first = back_up(ADMIN, engine=engine)
    second = back_up(ADMIN, engine=engine)
    assert (first, second) == (folder / "custdb-20260304-050607.sqlite",
                               folder / "custdb-20260304-050607-2.sqlite")
    assert NAME.match(first.name) and NAME.match(second.name)
    assert {p.name for p in folder.iterdir()} == {first.name, second.name}  # no .partial
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_backup_is_audited_with_its_file_name_and_size(
        sqlite_db: tuple[Engine, Path], tmp_path: Path) -> None:
    engine, _ = sqlite_db
    backup = back_up(ADMIN, engine=engine, folder=tmp_path / "elsewhere" / "nested")
    assert backup.parent == tmp_path / "elsewhere" / "nested"
    with read_session(engine) as session:
        event = session.execute(select(AuditEvent).order_by(
            col(AuditEvent.id).desc())).scalars().first()
    assert event is not None
    assert (event.action, event.actor, event.source) == ("database.backup", ADMIN.username,
                                                         "form")
    assert json.loads(event.changes) == {"file": backup.name, "bytes": backup.stat().st_size}


@pytest.mark.parametrize("actor", [MANAGER, MARKETING])
def test_backup_is_refused_for_non_admins(engine: Engine, tmp_path: Path, actor: object) -> None:
    with pytest.raises(PermissionDenied):
        back_up(actor, engine=engine, folder=tmp_path / "b")  # type: ignore[arg-type]
    assert not (tmp_path / "b").exists()


def test_postgresql_is_refused_with_the_pg_dump_command_without_password() -> None:
    engine = create_engine("postgresql+psycopg://custdb:s3cret@db.example:5433/crm")
    with pytest.raises(BackupNotSupported) as refused:
        back_up(ADMIN, engine=engine)
    message = str(refused.value)
    assert "pg_dump --format=custom --file custdb-" in message
    assert message.rstrip().endswith("postgresql://custdb@db.example:5433/crm")
    assert "s3cret" not in message and "psycopg" not in message
    assert refused.value.command in message


def test_backup_refuses_on_the_test_engines_own_postgresql(engine: Engine,
                                                           tmp_path: Path) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with pytest.raises(BackupNotSupported, match="pg_dump"):
        back_up(ADMIN, engine=engine, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_fails_clearly_and_leaves_nothing(
        sqlite_db: tuple[Engine, Path], tmp_path: Path) -> None:
    engine, _ = sqlite_db
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(BackupError, match=r"Cannot write a backup into .*not-a-folder"):
        back_up(ADMIN, engine=engine, folder=blocker / "backups")
    with read_session(engine) as session:
        assert session.execute(select(AuditEvent).where(
            col(AuditEvent.action) == "database.backup")).first() is None


def test_full_disk_fails_clearly_and_removes_the_partial_file(
        sqlite_db: tuple[Engine, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine, _ = sqlite_db

    def full(_engine: Engine, partial: Path) -> None:
        partial.write_bytes(b"half a database")
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = 13
        raise error

    monkeypatch.setattr(copy, "_copy", full)
    with pytest.raises(BackupError, match="is full; no backup was made"):
        back_up(ADMIN, engine=engine, folder=tmp_path / "b")
    assert list((tmp_path / "b").iterdir()) == []
