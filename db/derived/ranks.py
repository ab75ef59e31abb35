"""``order_ranks`` and ``contact_ranks``: each customer's newest orders' and contacts' times.

A segment such as "10 or more orders in the last 365 days" used to count each candidate's
orders in the window: 268,000 correlated counts at a million customers, about a second on
SQLite, whether they read the orders or per-customer monthly counts (each probe costs a few
microseconds however few rows it reads; see bench/RESULTS.md). A customer has at least n rows
since a moment exactly when their n-th newest row is at or after it, so with the times ranked
the same test is one range of the ``(rank, at)`` index: the customers who pass, read once.

The rows are derived data: a write refreshes the touched customers' rows in its own
transaction (through :func:`db.derived.kpi_tables.kept_current`), ``python -m db.derived
rebuild`` recomputes them, and :func:`differences` counts the rows that differ from a fresh
computation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BindParameter, Connection, Table, delete, func, insert, select
from sqlmodel import Session

from db.core.sql import IDS, ids_parameter, table_of
from db.derived.models import RANKED, ContactRank, OrderRank
from db.models import Interaction, Order

ORDER_RANKS = table_of(OrderRank)
CONTACT_RANKS = table_of(ContactRank)
# Each rank table with the rows it ranks and their time column.
_SOURCES = ((ORDER_RANKS, table_of(Order), "ordered_at"),
            (CONTACT_RANKS, table_of(Interaction), "at"))
_COLUMNS = ["customer_id", "rank", "at"]


def _ranked(source: Table, moment: str, customer_ids: BindParameter[Any] | None = None
            ) -> Any:
    """(customer, rank, time) of the newest :data:`RANKED` rows of some or all customers."""
    rank = func.row_number().over(partition_by=source.c.customer_id,
                                  order_by=(source.c[moment].desc(), source.c.id.desc()))
    inner = select(source.c.customer_id, rank.label("rank"), source.c[moment].label("at"))
    if customer_ids is not None:
        inner = inner.where(source.c.customer_id.in_(customer_ids))
    numbered = inner.subquery()
    return select(numbered.c.customer_id, numbered.c.rank, numbered.c.at).where(
        numbered.c.rank <= RANKED)


# Built once: see db.core.sql.ids_parameter.
_REFRESH = [(target, insert(target).from_select(_COLUMNS, _ranked(source, moment,
                                                                  ids_parameter())))
            for target, source, moment in _SOURCES]


def refresh(executor: Session | Connection, customer_ids: Iterable[int]) -> None:
    """Recompute these customers' ranked rows inside the caller's transaction (their rows
    already locked by the caller)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    if isinstance(executor, Session):
        executor.flush()
    for target, fill in _REFRESH:
        executor.execute(delete(target).where(target.c.customer_id.in_(ids)))
        executor.execute(fill, {IDS: ids})


def rebuild(executor: Session | Connection) -> dict[str, int]:
    """Recompute every ranked row; returns how many each table has."""
    counts = {}
    for target, source, moment in _SOURCES:
        executor.execute(delete(target))
        executor.execute(insert(target).from_select(_COLUMNS, _ranked(source, moment)))
        counts[target.name] = executor.execute(
            select(func.count()).select_from(target)).scalar_one()
    return counts


def differences(connection: Connection) -> dict[str, int]:
    """Per table, how many rows differ from a fresh computation (0: current)."""
    found = {}
    for target, source, moment in _SOURCES:
        stored = set(connection.execute(select(*(target.c[name] for name in _COLUMNS))))
        fresh = set(connection.execute(_ranked(source, moment)))
        found[target.name] = len(stored ^ fresh)
    return found
