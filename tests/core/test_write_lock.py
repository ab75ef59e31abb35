"""How a write waits for others: lock errors are told from conflicts, a busy database is
waited for (bounded), and a write ended by a lock error is run again whole."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from db.core import engine as engine_module
from db.core.engine import (
    DatabaseBusy,
    is_lock_error,
    make_engine,
    write_session,
)


def _wrapped(original: Exception) -> OperationalError:
    return OperationalError("UPDATE customer SET city = ?", {}, original)


def test_lock_errors_are_told_from_conflicts() -> None:
    assert is_lock_error(_wrapped(sqlite3.OperationalError("database is locked")))
    assert is_lock_error(_wrapped(psycopg.errors.DeadlockDetected("deadlock detected")))
    assert is_lock_error(_wrapped(psycopg.errors.SerializationFailure("could not serialize")))
    assert is_lock_error(_wrapped(psycopg.errors.LockNotAvailable("lock not available")))
    assert not is_lock_error(_wrapped(sqlite3.OperationalError("no such table: customer")))
    assert not is_lock_error(IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE")))
    assert not is_lock_error(StaleDataError("expected to update 1 row; 0 were matched"))


def _holding_the_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_write_waits_for_a_long_writer_past_one_begin_wait(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    with write_session(engine) as session:
        session.connection().exec_driver_sql("CREATE TABLE note (body TEXT)")
    holder = _holding_the_lock(path)
    threading.Timer(0.5, holder.commit).start()
    started = time.monotonic()
    with write_session(engine) as session:
        session.connection().exec_driver_sql("INSERT INTO note VALUES ('after the wait')")
    assert time.monotonic() - started >= 0.4
    holder.close()
    engine.dispose()


def test_a_write_gives_up_when_busy_too_long_and_never_runs_its_block(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "WRITE_LOCK_WAIT_S", 0.3)
    path = tmp_path / "x.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    holder = _holding_the_lock(path)
    ran = []
    with pytest.raises(DatabaseBusy, match="nothing was saved"), write_session(engine):
        ran.append("block")
    assert ran == []
    holder.rollback()
    holder.close()
    engine.dispose()
