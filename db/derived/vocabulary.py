"""The pick lists' values (:class:`db.derived.models.Vocabulary`), kept by the write path.

Every write that inserts orders calls :func:`note` in its transaction with the categories it
wrote (the order service, imports, the demo loader); a merge re-points orders and an erasure
keeps them, so neither adds nor removes a value. :func:`values` is what the segment builder
offers; :func:`rebuild` and :func:`differences` serve ``python -m db.derived``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Select, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from db.core.sql import table_of
from db.derived.models import Vocabulary
from db.models import Order

CATEGORY = "order.category"
VOCABULARY = table_of(Vocabulary)
_ORDERS = table_of(Order)
# What each field's values are, in the operational data.
_SOURCES = {CATEGORY: _ORDERS.c.category}


def note(executor: Session | Connection, field: str, values: Iterable[str | None]) -> None:
    """Add the values ``field`` does not list yet (inside the caller's transaction; two
    writers adding the same value at once both succeed)."""
    rows = [{"field": field, "value": value} for value in sorted({v for v in values if v})]
    if not rows:
        return
    dialect = (executor.get_bind() if isinstance(executor, Session) else executor).dialect
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    executor.execute(insert(VOCABULARY).on_conflict_do_nothing(), rows)


def values(connection: Connection, field: str) -> list[str]:
    """The values in use of ``field``, sorted."""
    return list(connection.execute(select(VOCABULARY.c.value).where(
        VOCABULARY.c.field == field).order_by(VOCABULARY.c.value)).scalars())


def _computed(field: str) -> Select[tuple[str, str]]:
    source = _SOURCES[field]
    return select(literal(field).label("field"), source.label("value")).where(
        source.is_not(None)).distinct()


def rebuild(connection: Connection) -> int:
    """Recompute every field's values from the data; how many rows."""
    connection.execute(delete(VOCABULARY))
    for field in _SOURCES:
        connection.execute(VOCABULARY.insert().from_select(["field", "value"],
                                                           _computed(field)))
    return int(connection.execute(select(func.count()).select_from(VOCABULARY)).scalar_one())


def differences(connection: Connection) -> int:
    """How many values are missing from the table or listed without being in the data."""
    found = 0
    for field in _SOURCES:
        kept = set(values(connection, field))
        computed = {row.value for row in connection.execute(_computed(field))}
        found += len(kept ^ computed)
    return found
