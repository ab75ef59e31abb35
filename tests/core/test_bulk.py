"""Bulk loading keeps every rule of the schema, even the ones it checks late."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from db.core.bulk import CheckViolated, checks_deferred, insert_rows, rollback_journal
from db.core.engine import make_engine
from db.migrate import upgrade
from db.models import Customer, Order

CUSTOMER_COLUMNS = ("id", "first_name", "last_name", "country", "status", "created_at",
                    "updated_at", "version")


def _customer(customer_id: int, status: str, stamp: str) -> tuple:
    return (customer_id, "Ada", "Lovelace", "GB", status, stamp, stamp, 1)


def _stamp(engine: Engine) -> str:
    return ("2026-01-02T03:04:05+00:00" if engine.dialect.name == "postgresql"
            else "2026-01-02 03:04:05.000000")


def test_a_row_breaking_a_check_rolls_the_whole_load_back(engine: Engine) -> None:
    tables = [Customer.__table__, Order.__table__]
    stamp = _stamp(engine)
    rows = [_customer(1, "active", stamp), _customer(2, "not-a-status", stamp)]
    # SQLite finds it after the load (CheckViolated); PostgreSQL's COPY refuses the row.
    refused = (CheckViolated, engine.dialect.dbapi.IntegrityError)
    with pytest.raises(refused, match="status"), \
            engine.begin() as connection, checks_deferred(connection, tables):
        insert_rows(connection, Customer.__table__, CUSTOMER_COLUMNS, rows)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Customer)).scalar_one() == 0


def test_valid_rows_load_and_checks_apply_again_afterwards(engine: Engine) -> None:
    stamp = _stamp(engine)
    with engine.begin() as connection:
        with checks_deferred(connection, [Customer.__table__]):
            insert_rows(connection, Customer.__table__, CUSTOMER_COLUMNS,
                        [_customer(1, "active", stamp), _customer(2, "lead", stamp)])
        with pytest.raises(engine.dialect.dbapi.IntegrityError), connection.begin_nested():
            insert_rows(connection, Customer.__table__, CUSTOMER_COLUMNS,
                        [_customer(3, "not-a-status", stamp)])
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Customer)).scalar_one() == 2


def test_values_follow_the_callers_column_order(engine: Engine) -> None:
    """The values of each row go to the columns named, in the order named, whatever the
    table's own column order (a reordered load once wrote NULL into the wrong column)."""
    stamp = _stamp(engine)
    reordered = ("last_name", "id", "version", "country", "first_name", "status",
                 "updated_at", "created_at")
    with engine.begin() as connection:
        insert_rows(connection, Customer.__table__, reordered,
                    [("Lovelace", 7, 1, "GB", "Ada", "lead", stamp, stamp)])
    with engine.connect() as connection:
        row = connection.execute(select(Customer.first_name, Customer.last_name,
                                        Customer.status).where(Customer.id == 7)).one()
    assert tuple(row) == ("Ada", "Lovelace", "lead")


def test_a_load_through_the_rollback_journal_is_atomic_and_wal_returns(tmp_path: Path) -> None:
    """The journal mode changes only for the load; a failed load leaves nothing behind."""
    url = f"sqlite:///{tmp_path / 'load.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    stamp = _stamp(engine)
    with engine.connect() as connection, rollback_journal(connection):
        raw = connection.connection.driver_connection  # no BEGIN before the load's own
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        with pytest.raises(CheckViolated), connection.begin(), \
                checks_deferred(connection, [Customer.__table__]):
            insert_rows(connection, Customer.__table__, CUSTOMER_COLUMNS,
                        [_customer(1, "active", stamp), _customer(2, "no-such", stamp)])
        with connection.begin():
            insert_rows(connection, Customer.__table__, CUSTOMER_COLUMNS,
                        [_customer(3, "active", stamp)])
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.execute(select(Customer.id)).scalars().all() == [3]


def test_a_load_beside_a_reading_connection_keeps_wal(tmp_path: Path) -> None:
    """Another connection in the middle of a read (a server's background count) keeps the
    file in WAL: the load goes through the WAL instead of failing with "database is locked"."""
    url = f"sqlite:///{tmp_path / 'load.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    stamp = _stamp(engine)
    with engine.connect() as reader:
        reader.execute(select(Customer.id)).all()  # its transaction holds a read snapshot
        with engine.connect() as connection, rollback_journal(connection):
            raw = connection.connection.driver_connection
            assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            with connection.begin():
                insert_rows(connection, Customer.__table__, CUSTOMER_COLUMNS,
                            [_customer(4, "active", stamp)])
        reader.rollback()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.execute(select(Customer.id)).scalars().all() == [4]
