"""What someone holding the database file can do to the audit trail, for the tamper tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text


@contextmanager
def without_triggers(engine: Engine) -> Iterator[Connection]:
    """A transaction with audit_event's guarding triggers dropped, put back at its end as
    the migrations made them: what someone who holds the database file can do."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            triggers = connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'audit_event'")).all()
            drop = "DROP TRIGGER {}"
        else:
            triggers = connection.execute(text(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal")).all()
            drop = "DROP TRIGGER {} ON audit_event"
        assert triggers
        for name, _ in triggers:
            connection.exec_driver_sql(drop.format(name))
        yield connection
        for _, definition in triggers:
            connection.exec_driver_sql(definition)
