"""The engine settings every later feature relies on, on each engine under test."""

from __future__ import annotations

import os
import shutil
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import StatementError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import select

from db.core.engine import (
    MMAP_BYTES,
    make_engine,
    normalise_url,
    read_session,
    write_session,
)
from db.models import Customer, Order


def _customer(**fields: object) -> Customer:
    return Customer(first_name="Ada", last_name="Lovelace", country="GB", **fields)


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        # Read through a memory map (as large as SQLite was built to allow, up to ours).
        assert 0 < connection.exec_driver_sql("PRAGMA mmap_size").scalar() <= MMAP_BYTES


def test_sqlite_concurrent_writers_queue_instead_of_failing(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """Two threads each read-then-write in one transaction; neither may see "locked"."""
    path = tmp_path / "x.sqlite"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with write_session(engine) as session:
        session.add(_customer(city="0"))
    errors: list[BaseException] = []

    def bump(times: int) -> None:
        try:
            for _ in range(times):
                with write_session(engine) as session:
                    customer = session.get(Customer, 1)
                    assert customer is not None
                    customer.city = str(int(customer.city or "0") + 1)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=bump, args=(25,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with read_session(engine) as session:
        customer = session.get(Customer, 1)
        assert customer is not None
        assert customer.city == "50"  # no lost update: each read-modify-write was serialised


def test_timestamps_round_trip_as_utc(engine: Engine) -> None:
    berlin = timezone(timedelta(hours=1))
    created = datetime(2026, 3, 1, 23, 30, tzinfo=berlin)
    with write_session(engine) as session:
        session.add(_customer(created_at=created))
    with read_session(engine) as session:
        stored = session.get(Customer, 1)
        assert stored is not None
        assert stored.created_at.tzinfo is not None
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at == datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="timezone-aware"), write_session(engine) as session:
        session.add(_customer(created_at=datetime(2026, 1, 1)))


def test_money_is_exact_decimal(engine: Engine) -> None:
    with write_session(engine) as session:
        customer = _customer()
        session.add(customer)
        session.flush()
        for amount in ("19.99", "0.01", "-5.10"):
            session.add(
                Order(customer_id=customer.id, amount=Decimal(amount), category="books",
                      channel="web", product="Novel")
            )
    with read_session(engine) as session:
        orders = session.exec(select(Order).order_by(Order.id)).all()
    expected = [Decimal("19.99"), Decimal("0.01"), Decimal("-5.10")]
    assert [order.amount for order in orders] == expected
    assert all(isinstance(order.amount, Decimal) for order in orders)


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), write_session(engine) as session:
        session.add(Order(customer_id=999, amount=Decimal("1"), category="x", channel="web",
                          product="y"))


def test_check_constraints_guard_vocabularies(engine: Engine) -> None:
    with pytest.raises(Exception, match=r"(?i)check"), write_session(engine) as session:
        session.add(_customer(status="vip"))


def test_stale_save_is_rejected_by_the_version_column(engine: Engine) -> None:
    """A copy read before someone else's save cannot overwrite that save.

    This is the Streamlit shape of the race: the form keeps the record it loaded across
    reruns, and saves it in a new transaction after another user has saved theirs.
    """
    with write_session(engine) as session:
        session.add(_customer())
    with read_session(engine) as session:
        mine = session.get(Customer, 1)
    assert mine is not None
    with write_session(engine) as session:
        theirs = session.get(Customer, 1)
        assert theirs is not None
        theirs.city = "Leeds"
    mine.city = "York"
    with pytest.raises(StaleDataError), write_session(engine) as session:
        session.add(mine)
    with read_session(engine) as session:
        stored = session.get(Customer, 1)
        assert stored is not None
        assert (stored.city, stored.version) == ("Leeds", 2)



def test_a_new_sqlite_file_anywhere_is_owner_only(tmp_path: Path) -> None:
    """The file holds password hashes: it and its -wal/-shm are 0600 wherever the URL points
    (not only under data/), even under a group-sharing umask."""
    path = tmp_path / "elsewhere" / "custdb.sqlite"
    umask = os.umask(0o002)
    try:
        engine = make_engine(f"sqlite:///{path}")
        with write_session(engine) as session:
            session.connection().exec_driver_sql("CREATE TABLE note (body TEXT)")
            session.connection().exec_driver_sql("INSERT INTO note VALUES ('first write')")
        with engine.connect() as connection:  # open, so -wal and -shm exist
            assert connection.exec_driver_sql("SELECT count(*) FROM note").scalar() == 1
            modes = {name: stat.S_IMODE(Path(f"{path}{name}").stat().st_mode)
                     for name in ("", "-wal", "-shm")}
        engine.dispose()
    finally:
        os.umask(umask)
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
