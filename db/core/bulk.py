"""Fast bulk loading of rows that have already been validated (demo data, later imports).

The ORM builds one object per row, which is slow for millions of rows; this module sends
plain tuples through the driver instead: ``executemany`` on SQLite, ``COPY ... FROM STDIN`` on
PostgreSQL. Column lists come from the table metadata, never from input. The figures behind
these choices are in ``bench/RESULTS.md`` ("Bulk loading and search index").
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import CheckConstraint, Connection, Table, func, select, text

Row = Sequence[Any]


def insert_rows(connection: Connection, table: Table, columns: Sequence[str],
                rows: Iterable[Row]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` on ``connection``.

    Values must already be in the engine's storage form. On SQLite a timestamp is the text
    SQLAlchemy itself stores, ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC (rows loaded here must
    compare as strings exactly like rows the ORM writes), and a boolean is 0/1. On PostgreSQL
    a timestamp is ISO text with its zone. ``None`` is NULL on both.
    """
    for name in columns:
        if name not in table.c:
            raise ValueError(f"{table.name} has no column {name}")
    raw = connection.connection.driver_connection
    assert raw is not None
    if connection.dialect.name == "postgresql":
        quote = connection.dialect.identifier_preparer.quote
        column_list = ", ".join(quote(name) for name in columns)
        # Identifiers come from the table metadata and are quoted by the dialect.
        statement = "COPY " + quote(table.name) + " (" + column_list + ") FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    # The compiled INSERT lists the columns in the table's order: values given in another
    # order are put in that one first (a reordered load once wrote into the wrong columns).
    ordered = [column.name for column in table.c if column.name in columns]
    if ordered != list(columns):
        rows = map(itemgetter(*(list(columns).index(name) for name in ordered)), rows)
    insert = str(table.insert().compile(dialect=connection.dialect, column_keys=ordered))
    cursor = raw.cursor()
    try:
        cursor.executemany(insert, rows)
    finally:
        cursor.close()


def reset_sequence(connection: Connection, table: Table) -> None:
    """After loading explicit ids, point PostgreSQL's id sequence past the largest one."""
    if connection.dialect.name != "postgresql" or "id" not in table.c:
        return  # SQLite's INTEGER PRIMARY KEY continues from max(id) by itself
    next_id = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
    connection.execute(
        select(func.setval(func.pg_get_serial_sequence(table.name, "id"), next_id, False))
    )


class CheckViolated(Exception):
    """A bulk load wrote a row that breaks one of the table's CHECK constraints."""


@contextmanager
def checks_deferred(connection: Connection, tables: Iterable[Table]) -> Iterator[None]:
    """On SQLite, check the CHECK constraints of ``tables`` once after a bulk load, not per row.

    SQLite evaluates ``column IN (...)`` checks by building a lookup table for every row of
    an ``executemany``, which tripled the time of loading orders with their two checks. One
    query per constraint over the loaded table finds the same violations; raising
    :class:`CheckViolated` rolls the load back.
    PostgreSQL's ``COPY`` checks cheaply, so nothing changes there.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA ignore_check_constraints=ON")
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA ignore_check_constraints=OFF")
    for table in tables:
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            # The condition is the model's own constraint text, never input.
            condition = "NOT (" + str(constraint.sqltext) + ")"
            broken = select(1).select_from(table).where(text(condition)).limit(1)
            if connection.execute(broken).first() is not None:
                raise CheckViolated(f"{table.name}: a loaded row breaks {constraint.name}")


@contextmanager
def rollback_journal(connection: Connection) -> Iterator[None]:
    """On SQLite, write one large load through a rollback journal instead of the WAL.

    In WAL mode every page of the load is written twice, to the log and then into the file
    at the checkpoint, and every page read first searches the log's index, which grows with
    the load. A new database's rollback journal only keeps the few pages that existed before,
    so the load stays atomic and safe from a crash. Call it before the load's transaction
    begins; WAL (which lets pages read while another connection writes) returns afterwards.
    If another connection holds the file open, SQLite keeps WAL and nothing changes; if one
    is in the middle of a read (a running server's background count), SQLite refuses the
    change as busy, and the load goes through the WAL too.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    was_wal = raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    try:
        raw.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.OperationalError as error:
        if error.sqlite_errorname != "SQLITE_BUSY":
            raise
    try:
        yield
    finally:
        if was_wal:
            raw.execute("PRAGMA journal_mode=WAL")


@contextmanager
def indexes_deferred(connection: Connection, tables: Iterable[Table]) -> Iterator[None]:
    """Drop the non-unique indexes of ``tables`` for a bulk load and rebuild them after.

    Building an index once over sorted data costs much less than updating it row by row
    during the load.
    """
    indexes = [index for table in tables for index in table.indexes if not index.unique]
    if connection.dialect.name == "sqlite":
        # A larger page cache (256 MiB, this connection only) keeps the unique-constraint
        # checks and the index rebuilds in memory (1 GiB with in-memory sorting was slower).
        connection.exec_driver_sql("PRAGMA cache_size=-262144")
    for index in indexes:
        index.drop(connection)
    yield
    if connection.dialect.name == "sqlite":
        # Sort with helper threads: the large indexes (orders by time) build sooner.
        connection.exec_driver_sql("PRAGMA threads=" + str(min(os.cpu_count() or 1, 4)))
    for index in indexes:
        index.create(connection)
    if connection.dialect.name == "sqlite":  # back to the defaults for the pooled connection
        connection.exec_driver_sql("PRAGMA threads=0")
        connection.exec_driver_sql("PRAGMA cache_size=-2000")
