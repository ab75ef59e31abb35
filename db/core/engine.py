"""One engine per database URL, and the two kinds of session every service uses.

SQLite is the embedded default; PostgreSQL (psycopg 3) is chosen by ``DATABASE_URL``.
On SQLite every connection runs in WAL mode with foreign keys on and a busy timeout, and
write transactions start with ``BEGIN IMMEDIATE`` so that two writers queue for the lock
instead of one failing half way with "database is locked".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from db.core.settings import read_settings

SQLITE_BUSY_TIMEOUT_MS = 10_000
_IMMEDIATE = "custdb_immediate"


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
    if database and database != ":memory:":
        # Owner-only: the file holds customer data and password hashes.
        Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: :func:`database_url`, read each call)."""
    return _cached_engine(url or database_url())


@lru_cache(maxsize=8)
def _cached_engine(url: str) -> Engine:
    return make_engine(url)


def _writer(engine: Engine) -> Engine:
    return engine.execution_options(**{_IMMEDIATE: True})


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reads; it never commits."""
    with Session(engine or get_engine()) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose transaction holds the write lock from its first statement.

    Commits when the block ends normally and rolls back on any exception, so a service's
    business rows and its audit rows are written together or not at all.
    """
    with Session(_writer(engine or get_engine()), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
