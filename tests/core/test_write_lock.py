"""How a write waits for others: lock errors are told from conflicts, a busy database is
waited for (bounded), and a write ended by a lock error is run again whole."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import select

from db.core import engine as engine_module
from db.core.engine import (
    DatabaseBusy,
    is_lock_error,
    make_engine,
    read_session,
    retry_on_lock,
    write_session,
)
from db.models import Customer
from tests.factories import customer


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


def test_a_conflict_is_reported_not_retried() -> None:
    calls = []

    @retry_on_lock
    def stale_save() -> None:
        calls.append(1)
        raise StaleDataError("expected to update 1 row; 0 were matched")

    with pytest.raises(StaleDataError):
        stale_save()
    assert calls == [1]


def test_a_deadlocked_write_is_run_again_whole(engine: Engine) -> None:
    """Two writes lock two customers in opposite orders; PostgreSQL ends one of them with a
    deadlock, and the rerun saves it once (each customer one version step, no half-write)."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite writers never interleave: BEGIN IMMEDIATE queues them")
    first, second = customer(engine).id, customer(engine).id
    assert first and second
    both_hold_one = threading.Barrier(2)
    attempts: list[int] = []
    errors: list[BaseException] = []

    @retry_on_lock
    def move(mine: int, theirs: int) -> None:
        attempts.append(mine)
        with write_session(engine) as session:
            own = session.get(Customer, mine, with_for_update=True)
            assert own is not None
            own.city = f"Moved by {mine}"
            session.flush()
            if attempts.count(mine) == 1:
                both_hold_one.wait(timeout=10)
            session.exec(select(Customer).where(Customer.id == theirs).with_for_update()).one()

    def run(mine: int, theirs: int) -> None:
        try:
            move(mine, theirs)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run, args=pair) for pair in ((first, second),
                                                                    (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(attempts) == 3  # one of the two was ended by the deadlock and run again
    with read_session(engine) as session:
        stored = [session.get(Customer, number) for number in (first, second)]
    assert [(row.city, row.version) for row in stored if row] == [
        (f"Moved by {first}", 2), (f"Moved by {second}", 2)]
