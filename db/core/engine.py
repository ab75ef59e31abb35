"""One engine per database URL, and the two kinds of session every service uses.

SQLite is the embedded default; PostgreSQL (psycopg 3) is chosen by ``DATABASE_URL``.
On SQLite every connection runs in WAL mode with foreign keys on and a busy timeout, and
write transactions start with ``BEGIN IMMEDIATE`` so that two writers queue for the lock
instead of one failing half way with "database is locked".

Waiting for that lock is not left to one long busy timeout: SQLite's busy handler polls
densely at first (after 1, 2, 5, 10 ms ...) but then only every 100 ms, so a long waiter
rarely catches the moment between one writer's commit and a busy neighbour's next ``BEGIN``;
eight busy writers starved one past its 10 s timeout for about 3 % of writes.
:func:`write_session` gives ``BEGIN IMMEDIATE`` a short busy timeout (:data:`_BEGIN_WAIT_MS`)
and, while another writer holds the lock, begins again after a random pause, for at most
:data:`WRITE_LOCK_WAIT_S`, so every waiter keeps polling densely (in SQLite's C sleep, not in
Python). Nothing of the transaction has run before the lock is held, so a retry cannot
half-write anything. On PostgreSQL writers run side by side and wait for each other's rows;
a write that changes several customers locks them all first, in id order
(:func:`db.models.lock_customers`), so two such writes queue instead of deadlocking. The
SQLite file and its ``-wal``/``-shm`` companions are created owner-only (they hold password
hashes), wherever the URL puts them.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from db.core.settings import read_settings

SQLITE_BUSY_TIMEOUT_MS = 10_000
MMAP_BYTES = 0x7FFF0000  # SQLite's largest memory map unless built otherwise (2 GB)
# How long a write may wait for other writers before it gives up (DatabaseBusy); the
# pauses between tries are random up to _MAX_PAUSE_S, so waiters do not retry in step.
WRITE_LOCK_WAIT_S = 30.0
_BEGIN_WAIT_MS = 50
_MAX_PAUSE_S = 0.005
_IMMEDIATE = "custdb_immediate"
# SQLite's SQLITE_BUSY and SQLITE_LOCKED; PostgreSQL's serialization_failure,
# deadlock_detected and lock_not_available. A version mismatch (StaleDataError) is none of
# these: it is a real conflict and is reported, never retried.
_SQLITE_LOCK_CODES = frozenset({5, 6})
_SQLITE_LOCK_TEXTS = ("database is locked", "database table is locked")
_POSTGRES_LOCK_STATES = frozenset({"40001", "40P01", "55P03"})


class DatabaseBusy(RuntimeError):
    """Other writers held the database for :data:`WRITE_LOCK_WAIT_S`; nothing was written."""


def is_lock_error(error: BaseException) -> bool:
    """Whether ``error`` means "another transaction was in the way" (retrying may succeed),
    as opposed to a real conflict or a fault in the statement."""
    original = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(original, sqlite3.OperationalError):
        code = getattr(original, "sqlite_errorcode", None)  # set on errors SQLite raised
        if code is None:
            return any(text in str(original) for text in _SQLITE_LOCK_TEXTS)
        return (code & 0xFF) in _SQLITE_LOCK_CODES
    return getattr(original, "sqlstate", None) in _POSTGRES_LOCK_STATES


def database_url() -> str:
    """The configured database URL: ``DATABASE_URL`` or the SQLite file under ``data/``."""
    return read_settings().database_url


def normalise_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg 3, whatever driver (or none) the URL names."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Create an engine with the settings this app relies on (see module docstring)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        _create_owner_only(Path(database))
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would issue a deferred BEGIN behind our back;
        # turning it off lets the "begin" hook below choose DEFERRED or IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=" + str(SQLITE_BUSY_TIMEOUT_MS))
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Pages read through a memory map, shared by every connection, where SQLite would
        # otherwise copy each into a 2 MB cache of its own with a system call: a lookup's
        # thousand candidates (a thousand scattered pages) took a third less at 1 M customers.
        # The map covers the file's first MMAP_BYTES; pages beyond are read as before.
        cursor.execute("PRAGMA mmap_size=" + str(MMAP_BYTES))
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(_IMMEDIATE, False):
            connection.exec_driver_sql("BEGIN")
            return
        # A short wait only: write_session tries again (see the module docstring); every
        # later statement keeps the long busy timeout.
        connection.exec_driver_sql("PRAGMA busy_timeout=" + str(_BEGIN_WAIT_MS))
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            connection.exec_driver_sql("PRAGMA busy_timeout=" + str(SQLITE_BUSY_TIMEOUT_MS))

    return engine


def _create_owner_only(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by its owner only, before SQLite
    would create it with the umask's mode: it holds customer data and password hashes.
    SQLite gives the ``-wal`` and ``-shm`` files it makes the database file's mode, so they
    are owner-only too. An existing file keeps the mode its owner gave it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: :func:`database_url`, read each call)."""
    return _cached_engine(url or database_url())


@lru_cache(maxsize=8)
def _cached_engine(url: str) -> Engine:
    return make_engine(url)


def _writer(engine: Engine) -> Engine:
    return engine.execution_options(**{_IMMEDIATE: True})


def _begin_when_free(session: Session) -> None:
    """Begin ``session``'s transaction (on SQLite: take the write lock), retrying while
    another transaction is in the way, with random pauses, up to the deadline."""
    deadline = time.monotonic() + WRITE_LOCK_WAIT_S
    while True:
        try:
            session.connection()  # runs the "begin" hook: BEGIN IMMEDIATE on SQLite
            return
        except DBAPIError as error:
            session.rollback()
            if not is_lock_error(error):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(f"Other writers kept the database busy for "
                                   f"{WRITE_LOCK_WAIT_S:.0f} s; nothing was saved. "
                                   f"Try again.") from error
        time.sleep(random.uniform(0, _MAX_PAUSE_S))


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reads; it never commits."""
    with Session(engine or get_engine()) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose transaction holds the write lock from its first statement.

    Commits when the block ends normally and rolls back on any exception, so a service's
    business rows and its audit rows are written together or not at all. The transaction
    begins before the block runs; while other writers hold the lock it is begun again after
    a short random pause, for at most :data:`WRITE_LOCK_WAIT_S` (then :class:`DatabaseBusy`).
    """
    with Session(_writer(engine or get_engine()), expire_on_commit=False) as session:
        _begin_when_free(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
